using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// Plan, then write: every bad input is found while planning or checking the plan, so a failure anywhere writes nothing
/// (each test compares every parameter's bytes before and after); ties by storage; the rough edges of the report.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class PlanThenWriteTests
{
    /// <summary>A module that owns a 1-D <c>weight</c>, which no fan-based scheme can fill.</summary>
    private sealed class OneD : nn.Module<Tensor, Tensor>
    {
        public Parameter weight = new(torch.ones(5));
        public OneD() : base(nameof(OneD)) => RegisterComponents();
        public override Tensor forward(Tensor x) => x;
    }

    /// <summary>A module with an integer weight (frozen: integer tensors cannot require grad).</summary>
    private sealed class IntWeight : nn.Module<Tensor, Tensor>
    {
        public Parameter weight = new(torch.ones(3, 3, dtype: ScalarType.Int32), requires_grad: false);
        public IntWeight() : base(nameof(IntWeight)) => RegisterComponents();
        public override Tensor forward(Tensor x) => x;
    }

    /// <summary>A custom block that says how its own parameters are initialized.</summary>
    private sealed class Scaled : nn.Module<Tensor, Tensor>, IInitializable
    {
        public Parameter gamma = new(torch.zeros(4));
        public Parameter proj = new(torch.zeros(12, 4));
        public Parameter extra = new(torch.zeros(2));
        public Linear fc = nn.Linear(4, 4);
        public Scaled() : base(nameof(Scaled)) => RegisterComponents();
        public override Tensor forward(Tensor x) => fc.call(x) * gamma;

        public void DeclareInit(ParameterDeclarations init) => init
            .Use("gamma", InitScheme.Constant(0.1), "layer scale starts small")
            .UseBlocks("proj", InitScheme.GlorotUniform, 3, "q, k, v each on its own");
    }

    private static List<byte[]> Bytes(nn.Module m) =>
        m.named_parameters().Select(p => p.parameter.detach().cpu().contiguous().bytes.ToArray()).ToList();

    private static void AssertNothingWritten(nn.Module model, Action apply, Type exception)
    {
        var before = Bytes(model);
        var e = Assert.Throws(exception, apply);
        Assert.Equal(before, Bytes(model));
    }

    private static Sequential WithBadFifth(nn.Module<Tensor, Tensor> bad) =>
        nn.Sequential(("l1", nn.Linear(4, 8)), ("r1", nn.ReLU()), ("l2", nn.Linear(8, 8)), ("r2", nn.ReLU()), ("bad", bad), ("l3", nn.Linear(8, 2)));

    public static TheoryData<string> Modes => new() { "exact", "fast" };

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_1d_weight_anywhere_throws_before_any_parameter_is_written(string mode)
    {
        using var scope = NewDisposeScope();
        var model = WithBadFifth(new OneD());
        var options = new InitOptions { Seed = 1, LayerTypes = [typeof(Linear), typeof(OneD)], Engine = mode == "fast" ? DrawEngine.Fast : DrawEngine.Exact };
        AssertNothingWritten(model, () => model.ApplyInit(InitScheme.HeNormal, options), typeof(ArgumentException));
        AssertNothingWritten(model, () => model.ApplyInit(InitPolicy.Auto, options), typeof(ArgumentException));
        var e = Assert.Throws<ArgumentException>(() => model.PlanInit(InitScheme.HeNormal, options));
        Assert.Contains("bad.weight", e.Message);
        Assert.Contains("[5]", e.Message);
    }

    [Fact]
    public void A_meta_device_layer_third_throws_before_the_first_two_are_written_and_a_dry_run_plans_it()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("l1", nn.Linear(4, 8)), ("r1", nn.ReLU()), ("l2", nn.Linear(8, 8)), ("meta", nn.Linear(8, 2, device: META)));
        var cpu = model.named_parameters().Where(p => p.parameter.device_type == DeviceType.CPU).Select(p => p.parameter.detach().clone()).ToList();
        var e = Assert.Throws<InvalidOperationException>(() => model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1 }));
        Assert.Contains("meta.weight", e.Message);
        var after = model.named_parameters().Where(p => p.parameter.device_type == DeviceType.CPU).Select(p => p.parameter).ToList();
        for (int i = 0; i < cpu.Count; i++) Assert.Equal(Stats.Values(cpu[i]), Stats.Values(after[i]));
        Assert.All(model.PlanInit(InitScheme.HeNormal).Rows.Where(r => r.Parameter == "weight"), r => Assert.Equal(InitAction.Planned, r.Action));
    }

    [Fact]
    public void An_integer_parameter_is_a_managed_error_naming_parameter_and_dtype_and_nothing_is_written()
    {
        using var scope = NewDisposeScope();
        var model = WithBadFifth(new IntWeight());
        var options = new InitOptions { Seed = 1, IncludeFrozen = true, LayerTypes = [typeof(Linear), typeof(IntWeight)] };
        AssertNothingWritten(model, () => model.ApplyInit(InitScheme.GlorotUniform, options), typeof(ArgumentException));
        var e = Assert.Throws<ArgumentException>(() => model.ApplyInit(InitScheme.GlorotUniform, options));
        Assert.Contains("bad.weight", e.Message);
        Assert.Contains("Int32", e.Message);
        // A constant needs no floating point: zeros on an integer tensor works, as PyTorch's zeros_ does.
        model.ApplyInit(InitScheme.Zeros, options);
        Assert.Equal(0, ((IntWeight)model.named_children().First(c => c.name == "bad").module).weight.sum().item<long>());
    }

    [Fact]
    public void Tensor_functions_reject_integer_and_complex_tensors_with_managed_errors_and_null_with_ArgumentNullException()
    {
        using var scope = NewDisposeScope();
        var ints = torch.ones(3, 4, dtype: ScalarType.Int32);
        var e = Assert.Throws<ArgumentException>(() => Init.Normal(ints));
        Assert.Contains("Int32", e.Message);
        Assert.Throws<ArgumentException>(() => Init.KaimingUniform(ints));
        Assert.Throws<ArgumentException>(() => ints.ApplyInit(InitScheme.HeNormal));
        Assert.Equal(12, ints.sum().item<long>());
        var complex = torch.zeros(3, 4, dtype: ScalarType.ComplexFloat32);
        e = Assert.Throws<ArgumentException>(() => Init.XavierUniform(complex));
        Assert.Contains("ComplexFloat32", e.Message);
        Assert.Throws<ArgumentException>(() => Init.Constant(complex, 1));
        Assert.Equal(0.0f, complex.abs().sum().item<float>());
        Assert.Throws<ArgumentNullException>(() => Init.Normal(null!));
        Assert.Throws<ArgumentNullException>(() => Init.XavierUniform(null!));
        Assert.Throws<ArgumentNullException>(() => Init.TruncNormal(null!));
        Assert.Throws<ArgumentNullException>(() => Init.Orthogonal(null!));
        Assert.Throws<ArgumentNullException>(() => Init.CalculateFans(null!));
    }

    [Theory]
    [InlineData("HeNormal")]
    [InlineData("GlorotUniform")]
    [InlineData("HeTruncatedNormal")]
    public void Zero_fans_are_an_ArgumentException_and_the_tensor_is_unchanged(string scheme)
    {
        using var scope = NewDisposeScope();
        var t = torch.zeros(3, 3);
        foreach (var mode in new[] { DrawEngine.Exact, DrawEngine.Fast })
        {
            var e = Assert.Throws<ArgumentException>(() => t.ApplyInit(InitScheme.Parse(scheme), new Fans(0, 0), new InitOptions { Seed = 1, Engine = mode }));
            Assert.Contains("fan", e.Message);
            Assert.Equal(0.0f, t.abs().sum().item<float>());
        }
    }

    [Fact]
    public void Half_precision_recurrent_layers_get_orthogonal_blocks_under_Auto()
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { ScalarType.Float16, ScalarType.BFloat16 })
        {
            var lstm = nn.LSTM(4, 3);
            lstm.to(dtype);
            var report = lstm.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1 });
            Assert.Equal(InitAction.Initialized, report["weight_hh_l0"].Action);
            var hh = lstm.named_parameters().First(p => p.name == "weight_hh_l0").parameter.to_type(ScalarType.Float64);
            for (int g = 0; g < 4; g++)
            {
                var block = hh.narrow(0, 3 * g, 3);
                var qtq = block.t().matmul(block);
                Assert.True((qtq - torch.eye(3, dtype: ScalarType.Float64)).abs().max().item<double>() < 2e-2, $"{dtype} gate {g}");
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_embedding_tied_to_the_output_linear_is_one_decision_and_one_write(bool embeddingGivesItsWeight)
    {
        using var scope = NewDisposeScope();
        var emb = nn.Embedding(10, 4);
        var head = nn.Linear(4, 10, hasBias: false);
        if (embeddingGivesItsWeight) head.weight = emb.weight!;
        else emb.weight = head.weight!;
        var model = nn.Sequential(("emb", emb), ("head", head));
        var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1, MeasureRealized = true });
        Assert.Equal(InitAction.Initialized, report["emb.weight"].Action);
        Assert.Equal(InitAction.Skipped, report["head.weight"].Action);
        Assert.Contains("shared with emb.weight", report["head.weight"].Note);
        var w = Stats.Values(emb.weight!);
        Assert.True(Stats.Close(Stats.Std(w), report["emb.weight"].RealizedStd, 1e-6), $"{Stats.Std(w)} vs {report["emb.weight"].RealizedStd}");
        Assert.Equal(w, Stats.Values(head.weight!));
        // The same under a fixed scheme that covers both (an override for the Embedding).
        var fixedReport = model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).For<Embedding>(InitScheme.Normal(0.02)), new InitOptions { Seed = 2 });
        Assert.Equal(InitAction.Skipped, fixedReport["head.weight"].Action);
    }

    [Fact]
    public void A_disposed_module_is_an_ObjectDisposedException()
    {
        var lin = nn.Linear(3, 3);
        lin.Dispose();
        Assert.Throws<ObjectDisposedException>(() => lin.ApplyInit(InitScheme.HeNormal));
        var seq = nn.Sequential(nn.Linear(2, 2));
        seq.Dispose();
        Assert.Throws<ObjectDisposedException>(() => seq.PlanInit(InitPolicy.Auto));
    }

    [Fact]
    public void Hints_and_overrides_that_match_nothing_or_no_layer_are_reported()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("a", nn.Sequential(("fc", nn.Linear(4, 4)))), ("act", nn.Tanh()));
        var policy = InitPolicy.Auto.Hint("A.fc", Activation.Relu).Hint("a", Activation.Relu).ForPath("nothing.*", InitScheme.Zeros).Hint("a.fc", Activation.Tanh);
        var report = model.PlanInit(policy);
        Assert.Equal(3, report.PolicyWarnings.Count);
        Assert.Contains(report.PolicyWarnings, w => w.Contains("Hint(\"A.fc\")") && w.Contains("matches no module") && w.Contains("a.fc"));
        Assert.Contains(report.PolicyWarnings, w => w.Contains("Hint(\"a\")") && w.Contains("not layers"));
        Assert.Contains(report.PolicyWarnings, w => w.Contains("ForPath(\"nothing.*\")"));
        Assert.Contains("policy: Hint(\"A.fc\")", report.ToString());
        Assert.Empty(model.PlanInit(InitPolicy.Auto.Hint("a.fc", Activation.Tanh)).PolicyWarnings);
    }

    [Fact]
    public void A_gain_override_is_said_in_the_reason_and_a_frozen_first_parameter_keeps_the_decided_gain()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("fc", nn.Linear(4, 4)), ("act", nn.ReLU()));
        var report = model.PlanInit(InitPolicy.Auto, new InitOptions { Gain = 0.5 });
        Assert.Contains("gain 0.5 set by InitOptions.Gain", report.Decision("fc").Reason);
        Assert.Contains(InitReport.DecisionsToHtml(report.Decisions), report.ToHtml());   // one rendering of the decisions' columns
        Assert.Equal(0.5, report.Decision("fc").Gain);
        model.named_parameters().First().parameter.requires_grad = false;
        var frozen = model.PlanInit(InitPolicy.Auto);
        Assert.Equal(InitAction.Skipped, frozen["fc.weight"].Action);
        Assert.Equal(Math.Sqrt(2.0), frozen.Decision("fc").Gain);
        Assert.Equal("zeros", frozen["fc.bias"].Scheme);
        model.named_parameters().Last().parameter.requires_grad = false;
        Assert.Equal("zeros", model.PlanInit(InitPolicy.Auto)["fc.bias"].Scheme);   // one name whether written or skipped
    }

    [Fact]
    public void Realized_statistics_of_bfloat16_are_accumulated_in_float64()
    {
        using var scope = NewDisposeScope();
        var lin = nn.Linear(512, 512);
        lin.to(ScalarType.BFloat16);
        var row = lin.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 3, MeasureRealized = true })["weight"];
        var exact = lin.weight!.to_type(ScalarType.Float64);
        Assert.True(Stats.Close(exact.std().item<double>(), row.RealizedStd, 1e-9));
        Assert.True(Math.Abs(exact.mean().item<double>() - row.RealizedMean) < 1e-12);
    }

    [Theory]
    [InlineData(DrawEngine.Exact, ScalarType.Float32)]
    [InlineData(DrawEngine.Exact, ScalarType.Float64)]
    [InlineData(DrawEngine.Fast, ScalarType.Float32)]
    [InlineData(DrawEngine.Fast, ScalarType.Float64)]
    public void The_reports_std_column_is_the_unbiased_std_of_the_written_tensor(DrawEngine engine, ScalarType dtype)
    {
        // Small tensors, where dividing by n instead of n − 1 is off by several percent: the row's RealizedStd and the printed
        // std column are the tensor's own std() (libtorch's, unbiased), whichever way it was measured (exact mode's one read,
        // fast mode's sums during the fill, libtorch's std for a non-contiguous tensor).
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("a", nn.Linear(5, 3, dtype: dtype)), ("r", nn.ReLU()), ("b", nn.Linear(3, 2, dtype: dtype)));
        var options = new InitOptions { Seed = 8, Engine = engine, MeasureRealized = true };
        var report = model.ApplyInit(InitScheme.HeUniform, options);
        var view = empty(3, 7, dtype).t();   // non-contiguous
        var viewReport = view.ApplyInit(InitScheme.LeCunNormal, options);

        void Check(InitReport r, string name, Tensor p)
        {
            var row = r[name];
            double expected = p.to_type(ScalarType.Float64).std().item<double>();
            double tolerance = dtype == ScalarType.Float64 ? 1e-12 : 1e-6;
            Assert.True(Math.Abs(row.RealizedStd - expected) <= tolerance * Math.Max(expected, 1e-300) || row.RealizedStd == expected,
                $"{engine} {dtype} {name}: realized std {row.RealizedStd:R}, the tensor's std {expected:R}");
            Assert.Equal(expected.ToString("0.000000", System.Globalization.CultureInfo.InvariantCulture), Column(r, name, "std"));
        }
        Check(report, "a.weight", model.get_parameter("a.weight")!);
        Check(report, "b.weight", model.get_parameter("b.weight")!);
        Check(report, "a.bias", model.get_parameter("a.bias")!);   // zeros: 0
        Check(viewReport, "tensor", view);
    }

    /// <summary>The printed table's cell of <paramref name="column"/> on the row of <paramref name="qualifiedName"/> (spans from the dashes under the header).</summary>
    private static string Column(InitReport report, string qualifiedName, string column)
    {
        var lines = report.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        string header = lines[0], dashes = lines[1];
        var spans = new List<(int Start, int End)>();
        for (int i = 0; i < dashes.Length;)
        {
            if (dashes[i] != '-') { i++; continue; }
            int start = i;
            while (i < dashes.Length && dashes[i] == '-') i++;
            spans.Add((start, i));
        }
        string Cell(string line, (int Start, int End) s) => line.Length <= s.Start ? "" : line[s.Start..Math.Min(s.End, line.Length)].Trim();
        var span = spans.Single(s => Cell(header, s) == column);
        int index = report.Rows.ToList().FindIndex(r => r.QualifiedName == qualifiedName);
        return Cell(lines[2 + index], span);
    }

    [Fact]
    public void The_report_as_csv_has_the_data_view_columns_and_one_line_per_row()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("fc", nn.Linear(3, 2)), ("act", nn.ReLU()));
        var report = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, MeasureRealized = true });
        var lines = report.ToCsv().TrimEnd('\n').Split('\n');
        Assert.Equal(string.Join(",", report.Schema.Select(c => c.Name)), lines[0]);
        Assert.Equal(report.Rows.Count + 1, lines.Length);
        Assert.StartsWith("fc,Linear,weight,\"[2, 3]\",3,2,torch,HeNormal,normal,", lines[1]);
        Assert.Equal(report["fc.weight"].RealizedStd, double.Parse(lines[1].Split(',')[14], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_one_element_parameter_has_a_realized_mean_and_no_std()
    {
        using var scope = NewDisposeScope();
        var lin = nn.Linear(4, 1);
        var row = lin.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 1, MeasureRealized = true })["bias"];
        Assert.Equal(lin.bias!.item<float>(), row.RealizedMean, 6);
        Assert.True(double.IsNaN(row.RealizedStd));
    }

    [Fact]
    public void A_custom_module_declares_its_own_init_and_its_rows_are_planned_validated_and_drawn_in_order()
    {
        using var scope = NewDisposeScope();
        var block = new Scaled();
        var model = nn.Sequential(("block", block), ("act", nn.ReLU()));
        var plan = model.PlanInit(InitPolicy.Auto);
        Assert.Equal(InitAction.Planned, plan["block.gamma"].Action);
        Assert.Equal("Constant(0.1)", plan["block.gamma"].Scheme);
        Assert.Equal(InitAction.Skipped, plan["block.extra"].Action);
        Assert.Contains("not declared by Scaled.DeclareInit", plan["block.extra"].Note);
        Assert.Contains("layer scale starts small", plan.Decision("block").Reason);
        Assert.Equal(new long?[] { 4, 4 }, new[] { plan["block.proj"].FanIn, plan["block.proj"].FanOut });   // per block [4, 4]

        var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 5 });
        Assert.All(Stats.Values(block.gamma), x => Assert.Equal(0.1, x, 6));
        // proj's blocks come first in pre-order (the block's own parameters before its children), each xavier_uniform_ of [4, 4].
        using var g = new Generator(5);
        var expected = torch.empty(12, 4);
        for (int k = 0; k < 3; k++) Init.XavierUniform(expected.narrow(0, 4 * k, 4), generator: g);
        Assert.Equal(Stats.Values(expected), Stats.Values(block.proj));
        Assert.Equal(InitAction.Initialized, report["block.fc.weight"].Action);   // the child is visited as usual
        // A policy override wins over the declaration: it applies its scheme as ApplyInit(scheme) does (weight and bias only).
        var overridden = model.PlanInit(InitPolicy.Auto.For<Scaled>(InitScheme.Zeros));
        Assert.Equal(InitAction.Skipped, overridden["block.gamma"].Action);
        Assert.StartsWith("override For<Scaled>", overridden.Decision("block").Reason);
        // Declaring a parameter the module does not have is an error naming it, before anything is written.
        var before = Stats.Values(block.gamma);
        var e = Assert.Throws<ArgumentException>(() => nn.Sequential(("ok", block), ("w", new Declares("nope"))).ApplyInit(InitPolicy.Auto));
        Assert.Contains("nope", e.Message);
        Assert.Equal(before, Stats.Values(block.gamma));
    }

    private sealed class Declares : nn.Module<Tensor, Tensor>, IInitializable
    {
        private readonly string parameter;
        public Parameter p = new(torch.zeros(2, 2));
        public Declares(string parameter) : base(nameof(Declares)) { this.parameter = parameter; RegisterComponents(); }
        public void DeclareInit(ParameterDeclarations init) => init.Use(parameter, InitScheme.Zeros, "test");
        public override Tensor forward(Tensor x) => x;
    }

    [Fact]
    public void Seeded_draws_on_the_parameter_device_equal_cpu_draws_for_cpu_parameters()
    {
        using var scope = NewDisposeScope();
        var a = nn.Linear(16, 8);
        var b = nn.Linear(16, 8);
        a.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 9 });
        b.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 9, SeededDraws = SeededDraws.OnParameterDevice });
        Assert.Equal(Stats.Values(a.weight!), Stats.Values(b.weight!));
    }

    [Fact]
    public void ApplyInit_leaves_no_live_tensors_behind()
    {
        var model = new ModuleDict<nn.Module>();
        model.Add(("fc", nn.Linear(8, 8)));
        model.Add(("act", nn.ReLU()));
        model.Add(("emb", nn.Embedding(5, 8)));
        model.Add(("lstm", nn.LSTM(8, 4)));
        model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1, MeasureRealized = true }); // warm-up
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); // finalize what earlier tests left to the GC
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1, MeasureRealized = true });
        model.PlanInit(InitPolicy.Auto);
        model.ApplyInit(InitScheme.Orthogonal, new InitOptions { Seed = 1, Engine = DrawEngine.Fast, MeasureRealized = true });
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}

/// <summary>Build.WithoutDefaultInit: no random numbers consumed while constructing, no tensor left behind per parameter.</summary>
[Collection(SerialTorchCollection.Name)]
public class ConstructionTests
{
    [Fact]
    public void Constructing_an_embedding_on_the_meta_device_consumes_no_random_numbers()
    {
        torch.manual_seed(11);
        using var expected = torch.rand(4);
        torch.manual_seed(11);
        var model = Build.WithoutDefaultInit(() => nn.Sequential(("emb", nn.Embedding(1000, 16)), ("fc", nn.Linear(16, 4))), InitPolicy.Auto, new InitOptions { Seed = 1 });
        using var after = torch.rand(4);
        Assert.Equal(Stats.Values(expected), Stats.Values(after));
        Assert.Equal(DeviceType.CPU, model.named_parameters().First().parameter.device_type);
    }

    [Fact]
    public void Build_draws_only_the_uncovered_defaults_from_the_global_generator_as_its_remarks_say()
    {
        // Build's remarks: the generator's state is saved before the factory runs and restored after (TorchSharp's Embedding
        // constructor draws on the CPU even on the meta device), the scheme draws from its own seeded generator, and every
        // tensor the scheme does not write gets its layer's default "drawn from the global generator", in pre-order. So
        // after manual_seed(s), the global generator draws exactly those defaults: here the Embedding's N(0, 1) and the
        // Bilinear's U(±1/√in1) (weight, then bias), HeNormal covering the Linear only.
        using var scope = NewDisposeScope();
        static nn.Module Factory() => new Parts();
        torch.manual_seed(21);
        var model = Build.WithoutDefaultInit(Factory, InitScheme.HeNormal, out var report, new InitOptions { Seed = 1 });
        using var after = torch.rand(8);

        torch.manual_seed(21);
        using var emb = empty(40, 6).normal_(0, 1);
        double b = 1 / Math.Sqrt(3);
        using var bilWeight = empty(5, 3, 4).uniform_(-b, b);
        using var bilBias = empty(5).uniform_(-b, b);
        using var expectedAfter = torch.rand(8);

        Assert.Equal(emb.bytes.ToArray(), P(model, "emb.weight").bytes.ToArray());
        Assert.Equal(bilWeight.bytes.ToArray(), P(model, "bil.weight").bytes.ToArray());
        Assert.Equal(bilBias.bytes.ToArray(), P(model, "bil.bias").bytes.ToArray());
        Assert.Equal(expectedAfter.bytes.ToArray(), after.bytes.ToArray());
        // The scheme's own weights: its seed's, the same as constructing normally and calling ApplyInit.
        Assert.Equal(InitAction.Initialized, report["fc.weight"].Action);
        var reference = nn.Linear(16, 8);
        reference.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1 });
        Assert.Equal(reference.weight!.bytes.ToArray(), P(model, "fc.weight").bytes.ToArray());
    }

    private static Tensor P(nn.Module m, string name) => m.named_parameters().Single(p => p.name == name).parameter;

    private sealed class Parts : nn.Module
    {
        private readonly Linear fc = nn.Linear(16, 8);
        private readonly Embedding emb = nn.Embedding(40, 6);
        private readonly Bilinear bil = nn.Bilinear(3, 4, 5);
        private readonly LayerNorm ln = nn.LayerNorm(8);
        public Parts() : base(nameof(Parts)) => RegisterComponents();
    }

    [Fact]
    public void Each_materialized_parameter_leaves_no_extra_live_tensor()
    {
        static nn.Module Factory() => nn.Sequential(("fc", nn.Linear(8, 8)), ("bn", nn.BatchNorm1d(8)), ("head", nn.Linear(8, 2)));
        using (var warm = Build.WithoutDefaultInit(Factory, InitScheme.HeNormal)) { }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var model = Build.WithoutDefaultInit(Factory, InitScheme.HeNormal, new InitOptions { Seed = 2 });
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long tensors = model.parameters().Count() + model.buffers().Count();
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        model.Dispose();
        Assert.True(after - before <= tensors, $"{after - before} live tensors for a model of {tensors} parameters and buffers");
    }
}
