using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>The fixtures written by scripts/gen_fixtures.py with real PyTorch, and helpers to rebuild their layers in TorchSharp.</summary>
internal static class ReferenceFixtures
{
    /// <summary>
    /// Runs the <c>torch.nn.init</c> function a fixture names (<paramref name="op"/>: "xavier_uniform_", "kaiming_normal_",
    /// "trunc_normal_"…) on <paramref name="t"/> with the fixture's arguments through the matching <see cref="Init"/> function.
    /// Returns false for an op that is not a torch.nn.init function.
    /// </summary>
    public static bool ApplyTorchInit(string op, Tensor t, JsonElement args, Generator g)
    {
        double Arg(string name) => args.GetProperty(name).GetDouble();
        FanMode Mode() => args.GetProperty("mode").GetString() == "fan_in" ? FanMode.FanIn : FanMode.FanOut;
        Nonlinearity Nl() => args.GetProperty("nonlinearity").GetString() switch
        {
            "leaky_relu" => Nonlinearity.LeakyRelu, "relu" => Nonlinearity.Relu, "tanh" => Nonlinearity.Tanh,
            "selu" => Nonlinearity.Selu, "sigmoid" => Nonlinearity.Sigmoid, "linear" => Nonlinearity.Linear,
            var s => throw new ArgumentException(s),
        };
        switch (op)
        {
            case "xavier_uniform_": Init.XavierUniform(t, Arg("gain"), g); return true;
            case "xavier_normal_": Init.XavierNormal(t, Arg("gain"), g); return true;
            case "kaiming_uniform_": Init.KaimingUniform(t, Arg("a"), Mode(), Nl(), g); return true;
            case "kaiming_normal_": Init.KaimingNormal(t, Arg("a"), Mode(), Nl(), g); return true;
            case "trunc_normal_": Init.TruncNormal(t, Arg("mean"), Arg("std"), Arg("a"), Arg("b"), g); return true;
            case "normal_": Init.Normal(t, Arg("mean"), Arg("std"), g); return true;
            case "uniform_": Init.Uniform(t, Arg("a"), Arg("b"), g); return true;
            default: return false;
        }
    }

    private static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch_reference.json"))));

    public static JsonElement Root => Doc.Value.RootElement;

    public static IEnumerable<JsonElement> Cases(string kind) =>
        Root.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("kind").GetString() == kind);

    public static JsonElement Case(string id) =>
        Root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);

    public static TheoryData<string> Ids(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases(kind)) data.Add(c.GetProperty("id").GetString()!);
        return data;
    }

    public static long[] Shape(JsonElement tensor) => tensor.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();

    public static ScalarType DType(JsonElement tensor) =>
        tensor.GetProperty("dtype").GetString() == "float64" ? ScalarType.Float64 : ScalarType.Float32;

    public static nn.Module Layer(JsonElement spec)
    {
        string kind = spec.GetProperty("kind").GetString()!;
        long cin = spec.GetProperty("in").GetInt64(), cout = spec.GetProperty("out").GetInt64();
        bool bias = spec.GetProperty("bias").GetBoolean();
        if (kind == "Linear") return nn.Linear(cin, cout, hasBias: bias);
        long[] k = spec.GetProperty("kernel").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        long stride = spec.GetProperty("stride").GetInt64(), groups = spec.GetProperty("groups").GetInt64();
        return kind switch
        {
            "Conv1d" => nn.Conv1d(cin, cout, k[0], stride: stride, groups: groups, bias: bias),
            "Conv2d" => nn.Conv2d(cin, cout, (k[0], k[1]), stride: (stride, stride), groups: groups, bias: bias),
            "Conv3d" => nn.Conv3d(cin, cout, (k[0], k[1], k[2]), stride: (stride, stride, stride), groups: groups, bias: bias),
            "ConvTranspose1d" => nn.ConvTranspose1d(cin, cout, k[0], stride: stride, groups: groups, bias: bias),
            "ConvTranspose2d" => nn.ConvTranspose2d(cin, cout, (k[0], k[1]), stride: (stride, stride), groups: groups, bias: bias),
            "ConvTranspose3d" => nn.ConvTranspose3d(cin, cout, (k[0], k[1], k[2]), stride: (stride, stride, stride), groups: groups, bias: bias),
            _ => throw new ArgumentException($"unknown layer kind {kind}"),
        };
    }

    /// <summary>The Sequential models of gen_fixtures.py's MODELS, built the same way.</summary>
    public static nn.Module Model(string name) => name switch
    {
        "mlp" => nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 10)),
        "cnn" => nn.Sequential(nn.Conv2d(3, 8, 3, padding: 1), nn.ReLU(), nn.Conv2d(8, 8, (3L, 1L), groups: 2), nn.ReLU(),
                               nn.Flatten(), nn.Linear(8 * 6 * 8, 10)),
        "nested" => nn.Sequential(nn.Sequential(nn.Linear(6, 12), nn.ReLU()),
                                  nn.Sequential(nn.Conv1d(1, 4, 3), nn.ConvTranspose1d(4, 2, 2)), nn.Linear(12, 3)),
        _ => throw new ArgumentException($"unknown model {name}"),
    };

    /// <summary>The scheme a fixture names: a well-known name, "Normal(0, s)", with an optional nonlinearity.</summary>
    public static InitScheme Scheme(string name, JsonElement? c = null)
    {
        var scheme = name.StartsWith("Normal(0, ", StringComparison.Ordinal)
            ? InitScheme.Normal(double.Parse(name["Normal(0, ".Length..^1], System.Globalization.CultureInfo.InvariantCulture))
            : InitScheme.Parse(name);
        if (c is { } cc && cc.TryGetProperty("nonlinearity", out var nl) && nl.ValueKind == JsonValueKind.String)
        {
            double? slope = cc.GetProperty("slope").ValueKind == JsonValueKind.Number ? cc.GetProperty("slope").GetDouble() : null;
            scheme = scheme.WithNonlinearity(Enum.Parse<Nonlinearity>(nl.GetString()!), slope);
        }
        return scheme;
    }

    public static byte[] Bytes(Tensor t)
    {
        using var c = t.detach().contiguous().cpu();
        return c.dtype == ScalarType.Float64
            ? c.data<double>().ToArray().SelectMany(BitConverter.GetBytes).ToArray()
            : c.data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray();
    }

    /// <summary>Asserts <paramref name="actual"/> equals the reference tensor bit for bit (same shape, dtype and bits).</summary>
    public static void AssertMatches(JsonElement expected, Tensor actual, string what) =>
        AssertClose(expected, actual, what, (_, _) => 0);

    /// <summary>Asserts <paramref name="actual"/> equals the reference (same shape and dtype) to within <paramref name="tolerance"/> per element.</summary>
    public static void AssertWithin(JsonElement expected, Tensor actual, double tolerance, string what) =>
        AssertClose(expected, actual, what, (_, _) => tolerance);

    /// <summary>
    /// Asserts a truncated-normal draw (PyTorch's uniform → erfinv → ×σ√2 → +μ → clamp) equals the reference
    /// up to <paramref name="erfinvUlps"/> units in the last place of erfinv's output, in the tensor's dtype: the uniform
    /// draws are bit-identical, but libtorch 2.10's erfinv differs from PyTorch 2.6's by up to 2 ulp where |erfinv| ≤ √2
    /// (every draw of a truncation at ±2σ) in float32 and float64 (measured; PyTorch 1.13's differed by up to 6 ulp in float32,
    /// when this bound was 8 float32 ulp for both dtypes). Returns the largest difference seen, in erfinv ulps.
    /// </summary>
    public static double AssertMatchesTruncNormal(JsonElement expected, Tensor actual, string what, double mean, double std, int erfinvUlps = 2) =>
        AssertClose(expected, actual, what, (_, b) =>
        {
            double z = Math.Abs((b - mean) / (std * Math.Sqrt(2)));
            return actual.dtype == ScalarType.Float64
                ? erfinvUlps * Math.Max(double.Epsilon, Math.BitIncrement(z) - z) * std * Math.Sqrt(2)
                  + 2 * (Math.BitIncrement(Math.Abs(b)) - Math.Abs(b))
                : erfinvUlps * Math.Max(float.Epsilon, MathF.BitIncrement((float)z) - (float)z) * std * Math.Sqrt(2)
                  + 2 * (MathF.BitIncrement((float)Math.Abs(b)) - (float)Math.Abs(b));
        });

    private static double AssertClose(JsonElement expected, Tensor actual, string what, Func<double, double, double> tolerance)
    {
        Assert.Equal(Shape(expected), actual.shape);
        Assert.Equal(DType(expected), actual.dtype);
        var bytes = Bytes(actual);
        if (Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant() == expected.GetProperty("sha256").GetString()) return 0;
        var want = Convert.FromBase64String(expected.GetProperty("values").GetString()!);
        Assert.Equal(want.Length, bytes.Length);
        int size = actual.dtype == ScalarType.Float64 ? 8 : 4;
        double worst = 0;
        for (int i = 0; i < bytes.Length / size; i++)
        {
            double a = size == 8 ? BitConverter.ToDouble(bytes, i * 8) : BitConverter.ToSingle(bytes, i * 4);
            double b = size == 8 ? BitConverter.ToDouble(want, i * 8) : BitConverter.ToSingle(want, i * 4);
            double tol = tolerance(a, b);
            if (Math.Abs(a - b) > tol)
                Assert.Fail($"{what}: element {i} is {a:R}, PyTorch has {b:R} (difference {Math.Abs(a - b):G3}, allowed {tol:G3})");
            if (tol > 0) worst = Math.Max(worst, Math.Abs(a - b) / tol);
        }
        return worst;
    }
}
