using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchInit.Tests.ReferenceFixtures;

namespace TorchInit.Tests;

/// <summary>
/// InitPolicy.Auto on the zoo against real PyTorch (scripts/gen_fixtures.py, kinds "auto_model" and
/// "orthogonal"): the decisions written out by hand in the generator, and PyTorch applying exactly those
/// choices. Every parameter bit for bit, except orthogonal ones: the QR decomposition runs in a different
/// LAPACK, so those are compared to 1e-5 and checked for orthogonality.
/// </summary>
public class AutoConformanceTests
{
    public static TheoryData<string> AutoCases => F.Ids("auto_model");
    public static TheoryData<string> OrthogonalCases => F.Ids("orthogonal");

    /// <summary>Largest |TorchInit − PyTorch| allowed for an orthogonal element (same N(0, 1) draw, QR by a different LAPACK).</summary>
    private const double OrthogonalTolerance = 1e-5;

    [Fact]
    public void The_zoo_covers_every_model_of_the_issue()
    {
        var models = F.Cases("auto_model").Select(c => c.GetProperty("model").GetString()).ToList();
        Assert.Equal(Zoo.Names, models);
        Assert.Contains(F.Cases("auto_model"), c => c.GetProperty("traced").GetBoolean());
        Assert.Contains(F.Cases("auto_model"), c => !c.GetProperty("traced").GetBoolean());
    }

    [Theory]
    [MemberData(nameof(OrthogonalCases))]
    public void Orthogonal_equals_torch_orthogonal_to_1e5(string id)
    {
        var c = F.Case(id);
        var expected = c.GetProperty("result");
        double gain = c.GetProperty("gain").GetDouble();
        using var scope = NewDisposeScope();
        using var g = new Generator((ulong)c.GetProperty("seed").GetInt64());
        var t = Init.Orthogonal(empty(F.Shape(expected), F.DType(expected)), gain, g);

        F.AssertWithin(expected, t, OrthogonalTolerance * gain, id);
        AssertOrthogonal(t, gain, id);
    }

    [Theory]
    [MemberData(nameof(AutoCases))]
    public void Auto_on_the_zoo_equals_pytorch_with_the_same_choices_by_hand(string id)
    {
        var c = F.Case(id);
        string name = c.GetProperty("model").GetString()!;
        using var scope = NewDisposeScope();
        var model = Zoo.Model(name);
        var policy = Zoo.Policy(c.GetProperty("policy").GetString()!);
        var options = new InitOptions { Seed = c.GetProperty("seed").GetInt64() };
        var report = c.GetProperty("traced").GetBoolean()
            ? model.ApplyInit(policy, options, Zoo.SampleInput(name))
            : model.ApplyInit(policy, options);

        // The decisions, one per module that owns parameters, as written out by hand in the generator.
        var expected = c.GetProperty("decisions").EnumerateArray().ToList();
        var decided = report.Decisions.Where(d => !d.Reason.StartsWith("shared", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Select(e => e[0].GetString()), decided.Select(d => d.Path));
        foreach (var e in expected)
        {
            var d = report.Decision(e[0].GetString()!);
            string what = $"{id} '{d.Path}': {d.Reason}";
            Assert.True(e[1].GetString() == d.Activation, $"{what}: activation {d.Activation}, expected {e[1].GetString()}");
            Assert.True(Enum.Parse<ActivationSource>(e[2].GetString()!) == d.Source, $"{what}: found by {d.Source}, expected {e[2].GetString()}");
            Assert.True(e[3].GetString() == d.Scheme, $"{what}: scheme {d.Scheme}, expected {e[3].GetString()}");
            double gain = e[4].ValueKind == JsonValueKind.Number ? e[4].GetDouble() : double.NaN;
            Assert.True(gain.Equals(d.Gain), $"{what}: gain {d.Gain:R}, expected {gain:R}");
        }

        // The weights: bit for bit, orthogonal ones to 1e-5.
        var approximate = c.GetProperty("approximate").EnumerateArray().Select(a => a.GetString()).ToHashSet();
        var parameters = c.GetProperty("parameters").EnumerateArray().Select(p => (Name: p[0].GetString()!, Value: p[1])).ToList();
        var actual = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(parameters.Select(p => p.Name), actual.Keys);
        foreach (var (pname, value) in parameters)
        {
            if (approximate.Contains(pname))
            {
                F.AssertWithin(value, actual[pname], OrthogonalTolerance, $"{id} {pname}");
                var hidden = actual[pname].shape[1];
                for (long k = 0; k < actual[pname].shape[0] / hidden; k++)
                    AssertOrthogonal(actual[pname].narrow(0, k * hidden, hidden), 1.0, $"{id} {pname} gate {k}");
            }
            else
            {
                F.AssertMatches(value, actual[pname], $"{id} {pname}");
            }
        }
    }

    /// <summary>Rows (rows ≤ cols) or columns (rows &gt; cols) of the flattened tensor are orthonormal, times gain.</summary>
    internal static void AssertOrthogonal(Tensor t, double gain, string what)
    {
        using var scope = NewDisposeScope();
        var m = t.detach().to_type(ScalarType.Float64).reshape(t.shape[0], -1) / gain;
        var gram = m.shape[0] <= m.shape[1] ? m.matmul(m.t()) : m.t().matmul(m);
        var error = (gram - eye(gram.shape[0], dtype: ScalarType.Float64)).abs().max().item<double>();
        Assert.True(error < 1e-5, $"{what}: |QᵀQ − I| = {error:G3}");
    }
}
