using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchInit.Tests.ReferenceFixtures;

namespace TorchInit.Tests;

/// <summary>
/// TorchInit against real PyTorch (fixtures from scripts/gen_fixtures.py): every case bit for bit, except
/// truncated-normal draws, which go through erfinv and may differ by 1 ulp between libtorch versions.
/// </summary>
public class ConformanceTests
{
    public static TheoryData<string> TensorCases => F.Ids("tensor");
    public static TheoryData<string> LayerCases => F.Ids("layer");
    public static TheoryData<string> DefaultInitCases => F.Ids("default_init");
    public static TheoryData<string> ModelCases => F.Ids("model");

    [Fact]
    public void Fixtures_cover_the_promised_breadth()
    {
        var cases = F.Root.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(F.Root.GetProperty("case_count").GetInt32(), cases.Count);
        var ops = F.Cases("tensor").Select(c => c.GetProperty("op").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_" }, ops);
        var layerShapes = F.Cases("layer").Concat(F.Cases("default_init"))
            .Select(c => c.GetProperty("weight").GetProperty("shape").ToString()).Distinct().Count();
        Assert.True(layerShapes >= 50, $"only {layerShapes} distinct layer shapes");
        var kinds = F.Cases("layer").Select(c => c.GetProperty("layer").GetProperty("kind").GetString()).ToHashSet();
        Assert.Equal(7, kinds.Count);
        Assert.Contains(F.Cases("layer"), c => c.GetProperty("layer").TryGetProperty("groups", out var g) && g.GetInt64() > 1);
        Assert.Contains(F.Cases("layer"), c => c.GetProperty("fan_convention").GetString() == "layer");
    }

    [Theory]
    [MemberData(nameof(TensorCases))]
    public void Tensor_initializers_equal_torch_nn_init(string id)
    {
        var c = F.Case(id);
        var expected = c.GetProperty("result");
        var a = c.GetProperty("args");
        double Arg(string name) => a.GetProperty(name).GetDouble();
        using var scope = NewDisposeScope();
        using var g = new Generator((ulong)c.GetProperty("seed").GetInt64());
        var t = empty(F.Shape(expected), F.DType(expected));
        string op = c.GetProperty("op").GetString()!;
        if (!F.ApplyTorchInit(op, t, a, g)) throw new ArgumentException($"unknown op {op}");
        if (op == "trunc_normal_")
            F.AssertMatchesTruncNormal(expected, t, id, Arg("mean"), Arg("std"));
        else
            F.AssertMatches(expected, t, id);
    }

    [Theory]
    [MemberData(nameof(LayerCases))]
    public void Schemes_on_layers_equal_the_pytorch_calls_they_stand_for(string id)
    {
        var c = F.Case(id);
        using var scope = NewDisposeScope();
        var layer = F.Layer(c.GetProperty("layer"));
        var scheme = F.Scheme(c.GetProperty("scheme").GetString()!, c);
        var options = new InitOptions
        {
            Seed = c.GetProperty("seed").GetInt64(),
            FanConvention = c.GetProperty("fan_convention").GetString() == "layer" ? FanConvention.Layer : FanConvention.Torch,
            Bias = Enum.Parse<BiasInit>(c.GetProperty("bias_policy").GetString()!),
        };
        var report = layer.ApplyInit(scheme, options);

        var row = report["weight"];
        var weight = layer.named_parameters().Single(p => p.name == "weight").parameter;
        AssertWeight(c.GetProperty("weight"), weight, scheme, row, id + " weight");
        if (c.TryGetProperty("bias", out var bias))
            F.AssertMatches(bias, layer.named_parameters().Single(p => p.name == "bias").parameter, id + " bias");

        Assert.Equal(InitAction.Initialized, row.Action);
        Assert.Equal(c.GetProperty("fan_in").GetInt64(), row.FanIn);
        Assert.Equal(c.GetProperty("fan_out").GetInt64(), row.FanOut);
        Assert.Equal(options.FanConvention, row.FanConvention);
    }

    [Theory]
    [MemberData(nameof(DefaultInitCases))]
    public void TorchDefault_equals_pytorch_constructor_init(string id)
    {
        var c = F.Case(id);
        long seed = c.GetProperty("seed").GetInt64();
        using var scope = NewDisposeScope();

        // TorchSharp's own constructor init draws the same numbers as PyTorch's ...
        torch.manual_seed(seed);
        var constructed = F.Layer(c.GetProperty("layer"));
        F.AssertMatches(c.GetProperty("weight"), constructed.named_parameters().Single(p => p.name == "weight").parameter, id + " ctor weight");

        // ... and InitScheme.TorchDefault re-creates it on any layer, from a private generator.
        var layer = F.Layer(c.GetProperty("layer"));
        var report = layer.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = seed });
        F.AssertMatches(c.GetProperty("weight"), layer.named_parameters().Single(p => p.name == "weight").parameter, id + " weight");
        if (c.TryGetProperty("bias", out var bias))
        {
            F.AssertMatches(bias, layer.named_parameters().Single(p => p.name == "bias").parameter, id + " bias");
            Assert.Equal("TorchDefault", report["bias"].Scheme);
        }
    }

    [Theory]
    [MemberData(nameof(ModelCases))]
    public void Whole_models_equal_pytorch_preorder_init(string id)
    {
        var c = F.Case(id);
        using var scope = NewDisposeScope();
        var model = F.Model(c.GetProperty("model").GetString()!);
        var scheme = F.Scheme(c.GetProperty("scheme").GetString()!);
        var report = model.ApplyInit(scheme, new InitOptions { Seed = c.GetProperty("seed").GetInt64() });

        var expected = c.GetProperty("parameters").EnumerateArray().Select(p => (Name: p[0].GetString()!, Value: p[1])).ToList();
        var actual = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(expected.Select(p => p.Name).Order(), actual.Keys.Order());
        // The report lists parameters in PyTorch's named_parameters() order: module pre-order, weight before bias.
        Assert.Equal(expected.Select(p => p.Name), report.Rows.Select(r => r.QualifiedName));
        foreach (var (name, value) in expected)
        {
            if (name.EndsWith("weight", StringComparison.Ordinal))
                AssertWeight(value, actual[name], scheme, report[name], $"{id} {name}");
            else
                F.AssertMatches(value, actual[name], $"{id} {name}");
        }
    }

    private static void AssertWeight(JsonElement expected, Tensor weight, InitScheme scheme, InitReportRow row, string what)
    {
        if (scheme is VarianceScalingScheme { Distribution: Distribution.TruncatedNormal })
            F.AssertMatchesTruncNormal(expected, weight, what, 0.0, row.Bound / 2); // bound = 2σ'
        else
            F.AssertMatches(expected, weight, what);
    }
}
