using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The torch-named core functions against PyTorch 2.6 on odd inputs (scripts/gen_core_edge_fixtures.py writes
/// Fixtures/core-trial/cases.json: 247 cases, odd shapes, layouts, dtypes, seeds and arguments): what PyTorch refuses TorchInit
/// refuses with an ArgumentException (never a raw libtorch error), leaving the tensor unchanged; what PyTorch accepts TorchInit
/// accepts, with the same bits (trunc_normal_: erfinv ulps; orthogonal_: the QR to 1e-5) — except the deliberate differences
/// of <see cref="Deliberate"/>, each held to what TorchInit does instead. Each case's outcome is also appended to
/// core-edge-results.tsv in the test's output directory.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class CoreEdgeCaseTests
{
    private static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "core-trial", "cases.json"))));

    private static IEnumerable<JsonElement> All => Doc.Value.RootElement.GetProperty("cases").EnumerateArray();

    public static TheoryData<string> Cases
    {
        get
        {
            var d = new TheoryData<string>();
            foreach (var c in All) d.Add(c.GetProperty("id").GetString()!);
            return d;
        }
    }

    private static readonly string ResultsPath = Path.Combine(AppContext.BaseDirectory, "core-edge-results.tsv");
    private static readonly object Gate = new();

    private static void Record(string id, JsonElement c, string verdict, string detail)
    {
        string desc = c.GetProperty("op").GetString() + " " + (c.TryGetProperty("shape", out var s) ? s.ToString() : "") + " " +
                      (c.TryGetProperty("dtype", out var dt) ? dt.GetString() : "") + " " + (c.TryGetProperty("layout", out var l) ? l.GetString() : "") +
                      (c.TryGetProperty("requires_grad", out var rg) && rg.GetBoolean() ? " rg" : "") +
                      (c.TryGetProperty("gen", out var gen) ? " " + gen.GetString() : "") + " " + c.GetProperty("args").ToString();
        desc = System.Text.RegularExpressions.Regex.Replace(desc, @"\s+", " ");
        detail = System.Text.RegularExpressions.Regex.Replace(detail, @" Exception raised from .*", "");
        lock (Gate) File.AppendAllText(ResultsPath, $"{id}\t{verdict}\t{desc}\t{detail.Replace('\n', ' ').Replace('\t', ' ')}\n");
    }

    private static double Num(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch { "nan" => double.NaN, "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, var x => throw new ArgumentException(x) }
        : e.GetDouble();

    private static ScalarType DType(string s) => s switch
    {
        "float32" => ScalarType.Float32, "float64" => ScalarType.Float64, "float16" => ScalarType.Float16, "bfloat16" => ScalarType.BFloat16,
        "int64" => ScalarType.Int64, "bool" => ScalarType.Bool, "complex64" => ScalarType.ComplexFloat32, _ => throw new ArgumentException(s),
    };

    /// <summary>trial_core.py's make(): the sentinel arange(n) % 97 * 0.25 − 3 in the case's layout.</summary>
    private static Tensor Make(long[] shape, ScalarType dtype, string layout, bool requiresGrad)
    {
        long[] baseShape = layout switch
        {
            "contig" => shape,
            "t" => Enumerable.Reverse(shape).ToArray(),
            "slice" => [shape[0] * 2, .. shape.Skip(1)],
            "expand" => [1, .. shape.Skip(1)],
            _ => throw new ArgumentException(layout),
        };
        long n = baseShape.Aggregate(1L, (a, b) => a * b);
        var b = arange(n, ScalarType.Float64).remainder(97).mul(0.25).sub(3).to(dtype).reshape(baseShape);
        var t = layout switch
        {
            "contig" => b,
            "t" => b.permute(Enumerable.Range(0, baseShape.Length).Reverse().Select(i => (long)i).ToArray()),
            "slice" => b.slice(0, 0, baseShape[0], 2),
            _ => b.expand(shape),
        };
        if (requiresGrad) t.requires_grad_(true);
        return t;
    }

    private static byte[] Raw(Tensor t)
    {
        using var c = t.detach().contiguous().cpu().reshape(-1);
        return c.bytes.ToArray();
    }

    private static Nonlinearity Nl(string s) => s switch
    {
        "leaky_relu" => Nonlinearity.LeakyRelu, "relu" => Nonlinearity.Relu, "tanh" => Nonlinearity.Tanh, "selu" => Nonlinearity.Selu,
        "sigmoid" => Nonlinearity.Sigmoid, "linear" => Nonlinearity.Linear,
        "conv1d" or "conv2d" or "conv3d" => Nonlinearity.Linear, // PyTorch's names of gain 1: TorchInit's Linear
        _ => (Nonlinearity)99, // a name PyTorch does not know: the closest a C# caller gets
    };

    private static void Call(string op, Tensor t, JsonElement a, Generator? g)
    {
        double A(string name, double dflt) => a.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? Num(v) : dflt;
        string S(string name, string dflt) => a.TryGetProperty(name, out var v) ? v.GetString()! : dflt;
        FanMode Mode() => S("mode", "fan_in") switch { "fan_in" => FanMode.FanIn, "fan_out" => FanMode.FanOut, "fan_avg" => FanMode.FanAvg, _ => (FanMode)99 };
        switch (op)
        {
            case "uniform_": Init.Uniform(t, A("a", 0), A("b", 1), g); break;
            case "normal_": Init.Normal(t, A("mean", 0), A("std", 1), g); break;
            case "trunc_normal_": Init.TruncNormal(t, A("mean", 0), A("std", 1), A("a", -2), A("b", 2), g); break;
            case "constant_": Init.Constant(t, A("val", double.NaN)); break;
            case "ones_": Init.Ones(t); break;
            case "zeros_": Init.Zeros(t); break;
            case "eye_": Init.Eye(t); break;
            case "dirac_": Init.Dirac(t, (int)A("groups", 1)); break;
            case "xavier_uniform_": Init.XavierUniform(t, A("gain", 1), g); break;
            case "xavier_normal_": Init.XavierNormal(t, A("gain", 1), g); break;
            case "kaiming_uniform_": Init.KaimingUniform(t, A("a", 0), Mode(), Nl(S("nonlinearity", "leaky_relu")), g); break;
            case "kaiming_normal_": Init.KaimingNormal(t, A("a", 0), Mode(), Nl(S("nonlinearity", "leaky_relu")), g); break;
            case "orthogonal_": Init.Orthogonal(t, A("gain", 1), g); break;
            case "sparse_": Init.Sparse(t, A("sparsity", double.NaN), A("std", 0.01), g); break;
            default: throw new ArgumentException(op);
        }
    }

    /// <summary>Element i of <paramref name="bytes"/> as a double (complex: the real and imaginary parts are elements of their own).</summary>
    private static double At(byte[] bytes, ScalarType dtype, int i) => dtype switch
    {
        ScalarType.Float64 => BitConverter.ToDouble(bytes, 8 * i),
        ScalarType.Float32 or ScalarType.ComplexFloat32 => BitConverter.ToSingle(bytes, 4 * i),
        ScalarType.Float16 => (double)BitConverter.ToHalf(bytes, 2 * i),
        ScalarType.BFloat16 => BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(bytes, 2 * i) << 16),
        ScalarType.Int64 => BitConverter.ToInt64(bytes, 8 * i),
        ScalarType.Bool => bytes[i],
        _ => throw new ArgumentException(dtype.ToString()),
    };

    private static int Size(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8, ScalarType.Float32 or ScalarType.ComplexFloat32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 => 2, _ => 1,
    };

    /// <summary>ULPs between a and b in <paramref name="dtype"/> (via the ordered bit patterns).</summary>
    private static long Ulps(byte[] x, byte[] y, ScalarType dtype, int i)
    {
        long Ord(byte[] bs) => dtype switch
        {
            ScalarType.Float64 => Order(BitConverter.ToInt64(bs, 8 * i), 64),
            ScalarType.Float32 => Order(BitConverter.ToInt32(bs, 4 * i), 32),
            _ => Order(BitConverter.ToInt16(bs, 2 * i), 16),
        };
        return Math.Abs(Ord(x) - Ord(y));
    }

    private static long Order(long bits, int width) => bits < 0 ? -(bits & (width == 64 ? long.MaxValue : (1L << (width - 1)) - 1)) : bits;

    /// <summary>What TorchInit does where it deliberately differs from PyTorch.</summary>
    private enum Instead { Refuses, Accepts }

    /// <summary>
    /// TorchInit's deliberate differences from PyTorch (README "How close to PyTorch", docs/conformance.md): it refuses what would
    /// write a silently meaningless init (non-finite numbers, std 0, an empty truncation, a negative gain or groups, sparsity
    /// outside [0, 1], complex tensors, overlapping views whose elements cannot get values of their own), and it accepts what PyTorch
    /// fails on for reasons of its own implementation (zero-element tensors are a no-op for every function, as PyTorch's other
    /// functions say; orthogonal in float16/bfloat16 computes its QR in float32; orthogonal writes any layout). sparse_ with a
    /// generator draws its permutations from that generator (PyTorch's from the global one: docs/conformance.md).
    /// </summary>
    private static (Instead Instead, string Why)? Deliberate(JsonElement c)
    {
        string op = c.GetProperty("op").GetString()!;
        var a = c.GetProperty("args");
        string? dtype = c.TryGetProperty("dtype", out var d) ? d.GetString() : null;
        string? layout = c.TryGetProperty("layout", out var l) ? l.GetString() : null;
        long[] shape = c.TryGetProperty("shape", out var sh) ? sh.EnumerateArray().Select(e => e.GetInt64()).ToArray() : [];
        double Arg(string name, double dflt) => a.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? Num(v) : dflt;
        bool nonFinite = a.EnumerateObject().Any(p => p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() is "nan" or "inf" or "-inf");
        if (op == "fans") return null;
        if (nonFinite) return (Instead.Refuses, "non-finite numbers are refused");
        if (op == "calculate_gain") return null;
        if (dtype == "complex64") return (Instead.Refuses, "real tensors only");
        if (layout == "expand") return (Instead.Refuses, "overlapping elements cannot get values of their own");
        if (op == "normal_" && Arg("std", 1) == 0) return (Instead.Refuses, "std 0 is a constant: Constant");
        if (op == "trunc_normal_" && Arg("a", -2) == Arg("b", 2)) return (Instead.Refuses, "an empty truncation [a, a]");
        if (op == "orthogonal_" && Arg("gain", 1) < 0) return (Instead.Refuses, "a negative gain");
        if (op == "dirac_" && Arg("groups", 1) <= 0) return (Instead.Refuses, "groups must be positive");
        if (op == "sparse_" && Arg("sparsity", 0.5) is < 0 or > 1) return (Instead.Refuses, "sparsity outside [0, 1]");
        // Where PyTorch fails for its implementation's reasons, or (sparse_) draws from another generator:
        bool torchOk = c.GetProperty("result").GetProperty("ok").GetBoolean();
        if (!torchOk && shape.Contains(0)) return (Instead.Accepts, "a zero-element tensor is a no-op");
        if (!torchOk && op == "orthogonal_" && dtype is "float16" or "bfloat16") return (Instead.Accepts, "QR in float32 for half types");
        if (!torchOk && op == "orthogonal_" && layout == "t" && shape.Length > 2) return (Instead.Accepts, "any layout is written");
        if (torchOk && op == "sparse_" && c.GetProperty("gen").GetString() == "generator") return (Instead.Accepts, "permutations from the given generator");
        return null;
    }

    /// <summary>A deliberate difference holds: TorchInit refuses with an ArgumentException and leaves the tensor as it was, or accepts.</summary>
    private static bool HoldDeliberate(string id, JsonElement c, Exception? error, bool unchanged)
    {
        if (Deliberate(c) is not var (instead, why)) return false;
        if (instead == Instead.Refuses)
        {
            Assert.True(error is ArgumentException, $"{id} ({why}): TorchInit should refuse with an ArgumentException, got {error?.GetType().Name ?? "no exception"}: {error?.Message}");
            Assert.True(unchanged, $"{id} ({why}): refused but the tensor was modified");
        }
        else Assert.True(error is null, $"{id} ({why}): TorchInit should accept, got {error?.GetType().Name}: {error?.Message}");
        Record(id, c, "DELIBERATE", why);
        return true;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Core_function_agrees_with_PyTorch(string id)
    {
        var c = All.Single(x => x.GetProperty("id").GetString() == id);
        var r = c.GetProperty("result");
        bool torchOk = r.GetProperty("ok").GetBoolean();
        string torchSays = torchOk ? "accepts" : $"{r.GetProperty("exc").GetString()}: {r.GetProperty("msg").GetString()}";
        string op = c.GetProperty("op").GetString()!;
        var a = c.GetProperty("args");

        if (op == "calculate_gain")
        {
            double? param = a.GetProperty("param").ValueKind == JsonValueKind.Null ? null : Num(a.GetProperty("param"));
            double got; Exception? err = null;
            try { got = Gain.CalculateGain(a.GetProperty("nonlinearity").GetString()!, param); }
            catch (Exception e) { err = e; got = double.NaN; }
            if (HoldDeliberate(id, c, err, unchanged: true)) return;
            Verdict(id, c, torchOk, torchSays, err, () =>
            {
                double want = Num(r.GetProperty("value"));
                return want.Equals(got) ? null : $"gain {got:R}, PyTorch {want:R}";
            }, unchanged: true);
            return;
        }

        using var scope = NewDisposeScope();
        var shape = c.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        if (op == "fans")
        {
            Fans fans = default; Exception? err = null;
            try { fans = Init.CalculateFans(empty(shape)); } catch (Exception e) { err = e; }
            Verdict(id, c, torchOk, torchSays, err, () =>
                fans.FanIn == r.GetProperty("fan_in").GetInt64() && fans.FanOut == r.GetProperty("fan_out").GetInt64()
                    ? null : $"fans {fans}, PyTorch ({r.GetProperty("fan_in")}, {r.GetProperty("fan_out")})", unchanged: true);
            return;
        }

        var dtype = DType(c.GetProperty("dtype").GetString()!);
        var t = Make(shape, dtype, c.GetProperty("layout").GetString()!, c.GetProperty("requires_grad").GetBoolean());
        var before = Raw(t);
        torch.random.manual_seed(c.GetProperty("global_seed").GetInt64());
        using var g = c.GetProperty("gen").GetString() is "generator" or "global_as_generator" ? new Generator((ulong)c.GetProperty("seed").GetInt64()) : null;
        Exception? error = null;
        try { Call(op, t, a, g); } catch (Exception e) { error = e; }
        var after = Raw(t);
        if (HoldDeliberate(id, c, error, before.AsSpan().SequenceEqual(after))) return;
        Verdict(id, c, torchOk, torchSays, error, () => Compare(op, dtype, r, after), unchanged: before.AsSpan().SequenceEqual(after));
    }

    private static string? Compare(string op, ScalarType dtype, JsonElement r, byte[] got)
    {
        if (Convert.ToHexString(SHA256.HashData(got)).ToLowerInvariant() == r.GetProperty("sha256").GetString()) return null;
        var want = Convert.FromBase64String(r.GetProperty("values").GetString()!);
        if (want.Length != got.Length) return $"{got.Length} bytes, PyTorch {want.Length}";
        int size = Size(dtype), n = got.Length / size, differ = 0;
        double maxAbs = 0; long maxUlp = 0; string first = "";
        for (int i = 0; i < n; i++)
        {
            double x = At(got, dtype, i), y = At(want, dtype, i);
            if (x.Equals(y)) continue;
            if (differ++ == 0) first = $"first at {i}: {x:R} vs PyTorch {y:R}";
            maxAbs = Math.Max(maxAbs, double.IsFinite(x - y) ? Math.Abs(x - y) : double.PositiveInfinity);
            if (dtype is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16) maxUlp = Math.Max(maxUlp, Ulps(got, want, dtype, i));
        }
        if (differ == 0) return null; // e.g. NaN payloads
        string stats = $"{differ}/{n} elements differ, max |Δ| {maxAbs:G3}, max {maxUlp} ulp; {first}";
        bool half = dtype is ScalarType.Float16 or ScalarType.BFloat16;
        if (op == "trunc_normal_" && maxUlp <= (half ? 1 : 4)) return "ok~ " + stats;       // erfinv / half-scalar rounding (docs/conformance.md)
        if (op == "orthogonal_" && maxAbs <= 1e-5) return "ok~ " + stats;                   // QR in another LAPACK
        return stats;
    }

    private static void Verdict(string id, JsonElement c, bool torchOk, string torchSays, Exception? error, Func<string?> compare, bool unchanged)
    {
        string ours = error is null ? "accepts" : $"{error.GetType().Name}: {error.Message}";
        if (torchOk && error is null)
        {
            string? diff = compare();
            if (diff is null) { Record(id, c, "MATCH", ""); return; }
            if (diff.StartsWith("ok~ ")) { Record(id, c, "MATCH~", diff[4..]); return; }
            Record(id, c, "VALUES", diff);
            Assert.Fail($"{id}: values differ from PyTorch: {diff}");
        }
        else if (torchOk)
        {
            Record(id, c, "TI-REFUSES", $"TorchInit {ours} | PyTorch accepts" + (unchanged ? "" : " | TENSOR MODIFIED"));
            Assert.Fail($"{id}: TorchInit refuses what PyTorch accepts: {ours}" + (unchanged ? "" : " (and modified the tensor)"));
        }
        else if (error is null)
        {
            Record(id, c, "TI-ACCEPTS", $"PyTorch {torchSays}");
            Assert.Fail($"{id}: TorchInit accepts what PyTorch refuses ({torchSays})");
        }
        else if (!unchanged)
        {
            Record(id, c, "MODIFIED", $"TorchInit {ours} after writing | PyTorch {torchSays}");
            Assert.Fail($"{id}: TorchInit refused ({ours}) but modified the tensor first");
        }
        else
        {
            Record(id, c, "BOTH-REFUSE", $"TorchInit {ours} | PyTorch {torchSays}");
            Assert.True(error is ArgumentException or InvalidOperationException, $"{id}: refused, but with a raw {error.GetType().Name} instead of a clear exception: {error.Message}");
        }
    }
}
