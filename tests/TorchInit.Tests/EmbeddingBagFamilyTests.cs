using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// EmbeddingBag, the layer family added as one file (<c>src/TorchInit/Families/EmbeddingBagFamily.cs</c>): before it, an
/// EmbeddingBag was an unknown module, left unchanged and listed as unhandled under Auto and under TorchDefault. Its PyTorch default
/// is libtorch's own <c>EmbeddingBag.reset_parameters</c> (N(0, 1), the padding row 0), which TorchSharp's constructor runs, so the
/// reference is the constructor's bits after <c>manual_seed</c>, with PyTorch's padding row: PyTorch's
/// <c>_fill_padding_idx_with_zero</c> runs after the draw, while TorchSharp 0.107's constructor (libtorch's C++
/// <c>EmbeddingBagImpl::reset_parameters</c>) zeroes that row before <c>normal_</c> and so leaves it drawn.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class EmbeddingBagFamilyTests
{
    private sealed class BagModel : nn.Module<Tensor, Tensor, Tensor>
    {
        private readonly EmbeddingBag bag;
        private readonly Sequential fc = nn.Sequential(nn.Linear(6, 3), nn.ReLU());
        public BagModel(long padding = -1) : base(nameof(BagModel))
        {
            bag = padding < 0 ? nn.EmbeddingBag(20, 6) : nn.EmbeddingBag(20, 6, padding_index: padding);
            if (padding >= 0) using (no_grad()) bag.weight![padding].zero_();   // PyTorch's constructor zeroes it; TorchSharp 0.107's does not
            RegisterComponents();
        }
        public override Tensor forward(Tensor input, Tensor offsets) => fc.call(bag.call(input, offsets));
    }

    [Fact]
    public void An_EmbeddingBag_is_a_lookup_table_of_its_own_family()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(LayerKind.Embedding, LayerTaxonomy.Classify(nn.EmbeddingBag(5, 3)));
        Assert.Same(LayerFamilies.EmbeddingBag, LayerTaxonomy.Of(nn.EmbeddingBag(5, 3)).Family);
    }

    [Theory]
    [InlineData(1L, -1L)]
    [InlineData(42L, -1L)]
    [InlineData(7L, 4L)]
    public void TorchDefault_is_the_constructors_draw_padding_row_included(long seed, long padding)
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(seed);
        var constructed = padding < 0 ? nn.EmbeddingBag(20, 6) : nn.EmbeddingBag(20, 6, padding_index: padding);
        if (padding >= 0) using (no_grad()) constructed.weight![padding].zero_();   // PyTorch: normal_(weight), then the padding row 0
        var bag = padding < 0 ? nn.EmbeddingBag(20, 6) : nn.EmbeddingBag(20, 6, padding_index: padding);
        using (no_grad()) bag.weight!.fill_(0.5);   // anything but the constructor's values
        if (padding >= 0) using (no_grad()) bag.weight![padding].zero_();
        var report = bag.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = seed, LayerTypes = [typeof(EmbeddingBag)] });
        Assert.Empty(report.Unhandled);
        Assert.Equal(InitAction.Initialized, report["weight"].Action);
        Assert.Equal("TorchDefault", report["weight"].Scheme);
        Assert.Contains("PyTorch's default EmbeddingBag", report["weight"].Reason);
        Assert.Equal(constructed.weight!.bytes.ToArray(), bag.weight!.bytes.ToArray());
        if (padding >= 0) Assert.Contains($"row {padding} kept at 0", report["weight"].Note);
    }

    [Fact]
    public void Auto_draws_its_table_from_N01_and_the_following_layer_from_its_activation()
    {
        using var scope = NewDisposeScope();
        var model = new BagModel();
        var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 3 });
        Assert.Empty(report.Unhandled);
        Assert.Equal(InitAction.Initialized, report["bag.weight"].Action);
        var decision = report.Decision("bag");
        Assert.Equal("EmbeddingBag", decision.LayerType);
        Assert.StartsWith("EmbeddingBag: PyTorch's default N(0, 1)", decision.Reason);
        Assert.Equal(1.0, report["bag.weight"].TargetStd, 12);
        Assert.Equal("ReLU", report.Decision("fc.0").Activation);
        // N(0, 1) from the seeded generator is the constructor's draw: the same bits as a fresh EmbeddingBag after manual_seed(3).
        torch.random.manual_seed(3);
        var constructed = nn.EmbeddingBag(20, 6);
        Assert.Equal(constructed.weight!.bytes.ToArray(), model.get_parameter("bag.weight")!.bytes.ToArray());
    }

    [Fact]
    public void Auto_keeps_the_padding_row_and_Scaled_gives_std_one_over_root_d()
    {
        using var scope = NewDisposeScope();
        var model = new BagModel(padding: 2);
        var report = model.ApplyInit(InitPolicy.Auto.Embedding(EmbeddingInit.Scaled), new InitOptions { Seed = 11 });
        var w = model.get_parameter("bag.weight")!;
        Assert.True(w[2].eq(0).all().item<bool>(), "the padding row was drawn");
        Assert.Equal(19, w.ne(0).all(1).sum().item<long>());
        Assert.Equal(1 / Math.Sqrt(6), report["bag.weight"].TargetStd, 12);
        Assert.Equal("Normal(0, 1/√6)", report["bag.weight"].Scheme);
        Assert.Contains("EmbeddingBag: scaled N(0, 1/d), d = 6", report.Decision("bag").Reason);
        Assert.Contains("row 2 kept at 0 (padding_idx)", report.Decision("bag").Reason);
    }

    [Fact]
    public void A_fixed_scheme_leaves_it_unhandled_and_unchanged_as_an_Embedding()
    {
        using var scope = NewDisposeScope();
        var model = new BagModel();
        var before = model.get_parameter("bag.weight")!.bytes.ToArray();
        var report = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1 });
        Assert.Contains(report.Unhandled, u => u.Path == "bag" && u.ModuleType == "EmbeddingBag");
        Assert.Equal(before, model.get_parameter("bag.weight")!.bytes.ToArray());
        Assert.Equal(InitAction.Initialized, report["fc.0.weight"].Action);
    }

    [Fact]
    public void Build_constructs_it_on_the_meta_device_and_writes_its_default()
    {
        using var scope = NewDisposeScope();
        var model = Build.WithoutDefaultInit(() => new BagModel(), InitPolicy.Auto, new InitOptions { Seed = 5 });
        var w = model.get_parameter("bag.weight")!;
        Assert.Equal(DeviceType.CPU, w.device_type);
        using var eager = new BagModel();
        eager.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 5 });
        Assert.Equal(eager.get_parameter("bag.weight")!.bytes.ToArray(), w.bytes.ToArray());
        Assert.Equal(eager.get_parameter("fc.0.weight")!.bytes.ToArray(), model.get_parameter("fc.0.weight")!.bytes.ToArray());
    }

    [Fact]
    public void Build_plans_on_zeroed_storage_so_no_row_of_fresh_memory_is_taken_for_the_padding_row()
    {
        // Build allocates each parameter before planning, and the planner looks for a lookup table's one all-zero row: on
        // uninitialized memory a row of garbage zeros could be taken for padding_idx and written 0 (seen once, under parallel tests).
        for (int seed = 0; seed < 20; seed++)
        {
            using var scope = NewDisposeScope();
            var embedding = Build.WithoutDefaultInit(() => nn.Sequential(("emb", nn.Embedding(64, 3))), InitPolicy.Auto, out var report, new InitOptions { Seed = seed });
            var bag = Build.WithoutDefaultInit(() => new BagModel(), InitPolicy.Auto, out var bagReport, new InitOptions { Seed = seed });
            foreach (var (model, r, path) in new[] { ((nn.Module)embedding, report, "emb"), (bag, bagReport, "bag") })
            {
                Assert.DoesNotContain("padding_idx", r.Decision(path).Reason);
                Assert.Equal(0, model.get_parameter(path + ".weight")!.eq(0).all(1).sum().item<long>());
            }
        }
    }
}
