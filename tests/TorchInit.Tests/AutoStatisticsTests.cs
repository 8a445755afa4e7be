using static TorchSharp.torch;
using F = TorchInit.Tests.ReferenceFixtures;

namespace TorchInit.Tests;

/// <summary>
/// InitPolicy.Auto on every zoo model writes weights whose distribution is the one its report row names:
/// a one-sample Kolmogorov–Smirnov test against N(0, target std²) or U(−bound, bound) per weight,
/// orthogonality for orthogonal weights, the exact constant for normalization layers and biases.
/// </summary>
public class AutoStatisticsTests
{
    public static TheoryData<string> Models => F.Ids("auto_model");

    /// <summary>Seeded and deterministic; a p-value below this would mean the draw is not the distribution reported.</summary>
    private const double MinPValue = 1e-3;

    [Theory]
    [MemberData(nameof(Models))]
    public void Weights_follow_the_scheme_each_layer_was_given(string id)
    {
        var c = F.Case(id);
        string name = c.GetProperty("model").GetString()!;
        using var scope = NewDisposeScope();
        var model = Zoo.Model(name);
        var policy = Zoo.Policy(c.GetProperty("policy").GetString()!);
        var options = new InitOptions { Seed = 20261123 };
        var report = c.GetProperty("traced").GetBoolean()
            ? model.ApplyInit(policy, options, Zoo.SampleInput(name))
            : model.ApplyInit(policy, options);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);

        int tested = 0;
        foreach (var row in report.Rows.Where(r => r.Action == InitAction.Initialized))
        {
            var p = parameters[row.QualifiedName];
            var values = p.detach().to_type(ScalarType.Float64).flatten().data<double>().ToArray();
            string what = $"{id} {row.QualifiedName} ({row.Scheme}, {row.Distribution})";
            switch (row.Distribution)
            {
                case "normal":
                {
                    var (d, pValue) = Stats.KolmogorovSmirnov(values, x => Stats.NormalCdf(x, 0, row.TargetStd));
                    Assert.True(pValue > MinPValue, $"{what}: KS D = {d:F4}, p = {pValue:G3} against N(0, {row.TargetStd:G4}²)");
                    break;
                }
                case "uniform":
                {
                    Assert.True(values.All(v => Math.Abs(v) <= row.Bound * (1 + 1e-6)), $"{what}: a value outside ±{row.Bound}");
                    var (d, pValue) = Stats.KolmogorovSmirnov(values, x => Stats.UniformCdf(x, -row.Bound, row.Bound));
                    Assert.True(pValue > MinPValue, $"{what}: KS D = {d:F4}, p = {pValue:G3} against U(±{row.Bound:G4})");
                    break;
                }
                case "orthogonal":
                {
                    long block = p.shape[1] == row.FanIn ? row.FanOut!.Value : p.shape[0];
                    for (long k = 0; k < p.shape[0] / block; k++)
                        AutoConformanceTests.AssertOrthogonal(p.narrow(0, k * block, block), row.Gain, $"{what} block {k}");
                    break;
                }
                case "constant" when row.Scheme is "ones" or "zeros":
                    Assert.All(values, v => Assert.Equal(row.Scheme == "ones" ? 1.0 : 0.0, v));
                    break;
                case "constant":
                    continue; // the LSTM forget-gate bias: checked in VisitorTests
                default:
                    Assert.Fail($"{what}: unexpected distribution");
                    break;
            }
            tested++;
        }
        Assert.True(tested >= 3, $"{id}: only {tested} parameters tested");
    }

    [Fact]
    public void The_test_can_tell_a_wrong_scheme_apart()
    {
        // Negative control: He's σ against Glorot's on the same 64 × 64 draw, and the uniform against the normal.
        using var scope = NewDisposeScope();
        var layer = nn.Linear(64, 64);
        var row = layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1 })["weight"];
        var values = layer.named_parameters().First().parameter.detach().to_type(ScalarType.Float64).flatten().data<double>().ToArray();
        Assert.True(Stats.KolmogorovSmirnov(values, x => Stats.NormalCdf(x, 0, row.TargetStd)).P > MinPValue);
        Assert.True(Stats.KolmogorovSmirnov(values, x => Stats.NormalCdf(x, 0, row.TargetStd / Math.Sqrt(2))).P < MinPValue);
        double b = Math.Sqrt(3) * row.TargetStd;
        Assert.True(Stats.KolmogorovSmirnov(values, x => Stats.UniformCdf(x, -b, b)).P < MinPValue);
    }
}
