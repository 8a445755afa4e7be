using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// <see cref="InitScheme.TorchDefault"/> on layers that are not Linear or Conv is each layer's own PyTorch default: the same
/// bits as the layer's constructor (libtorch's <c>reset_parameters</c>, which TorchSharp runs) after <c>manual_seed</c>.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class TorchDefaultLayerTests
{
    public static TheoryData<string> Layers => new() { "LSTM", "GRU", "RNN", "LSTM2", "Embedding", "Bilinear", "LayerNorm", "BatchNorm1d" };

    private static nn.Module Make(string name) => name switch
    {
        "LSTM" => nn.LSTM(5, 4),
        "GRU" => nn.GRU(6, 3),
        "RNN" => nn.RNN(4, 7),
        "LSTM2" => nn.LSTM(3, 5, numLayers: 2, bidirectional: true),
        "Embedding" => nn.Embedding(11, 6),
        "Bilinear" => nn.Bilinear(3, 4, 5),
        "LayerNorm" => nn.LayerNorm(6),
        _ => nn.BatchNorm1d(6),
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void TorchDefault_is_the_layers_own_constructor_default(string name)
    {
        using var scope = NewDisposeScope();
        foreach (long seed in new long[] { 1, 42 })
        {
            torch.random.manual_seed(seed);
            var constructed = Make(name);
            var expected = constructed.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());
            var m = Make(name);
            var report = m.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = seed, LayerTypes = [m.GetType()] });
            Assert.Empty(report.Unhandled);
            foreach (var (n, p) in m.named_parameters())
            {
                Assert.True(expected[n].SequenceEqual(p.bytes.ToArray()), $"{name} seed {seed}: {n} differs from the constructor's");
                Assert.Equal(InitAction.Initialized, report[n].Action);
                Assert.Equal("TorchDefault", report[n].Scheme);
                Assert.Contains("PyTorch's default", report[n].Reason);
            }
        }
    }

    [Fact]
    public void An_embeddings_padding_row_stays_zero_under_TorchDefault()
    {
        using var scope = NewDisposeScope();
        var e = nn.Embedding(10, 4, padding_idx: 3);
        var report = e.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 5, LayerTypes = [typeof(Embedding)] });
        Assert.True(e.weight![3].eq(0).all().item<bool>());
        Assert.Equal(9, e.weight!.ne(0).all(1).sum().item<long>());
        Assert.Contains("padding_idx", report["weight"].Note);
    }

    [Fact]
    public void Other_schemes_on_a_listed_recurrent_layer_are_still_written_like_a_Linear()
    {
        using var scope = NewDisposeScope();
        var lstm = nn.LSTM(5, 4);
        var report = lstm.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, LayerTypes = [typeof(LSTM)] });
        Assert.Equal("HeNormal", report["weight_ih_l0"].Scheme);
    }
}
