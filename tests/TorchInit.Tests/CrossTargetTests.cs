using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// Fast mode must give the same bits whatever the target framework (net8.0 has no Vector256.FusedMultiplyAdd and
/// uses Fma.MultiplyAdd or a per-lane Math.FusedMultiplyAdd instead), the vector width and the instruction set. The
/// golden hashes below were computed by the net10.0 build; this file is compiled into both test programs
/// (tests/TorchInit.Tests for net10.0, tests/TorchInit.Tests.Net8 for net8.0), so both are held to the same values.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class CrossTargetTests
{
    public static IEnumerable<object[]> Golden() =>
    [
        [(int)FastDistribution.Normal, false, "F4496C0C96459086A625A6DECBF166E2"],
        [(int)FastDistribution.Uniform, false, "71761C169877039B1CF9FD2537D38198"],
        [(int)FastDistribution.TruncatedNormal, false, "EE2E1E1771457A5D9FC4B860F12AACA7"],
        [(int)FastDistribution.Normal, true, "D4BFD65F18AB2F3CDF0C97CB5BDAFCEF"],
        [(int)FastDistribution.Uniform, true, "E47AF98E9ED1922FCE506720A10A8D2C"],
        [(int)FastDistribution.TruncatedNormal, true, "71873C15C944D78F5536703375763906"],
    ];

    private static FastDraw Draw(FastDistribution d) => d switch
    {
        FastDistribution.Normal => new FastDraw(d, 0.25, 0.5, 0, 2024, 5),
        FastDistribution.Uniform => new FastDraw(d, -0.3, 0.7, 0, 2024, 5),
        _ => new FastDraw(d, 0.1, 0.2, 2.0, 2024, 5),
    };

    private static string Hash(FastDistribution dist, bool wide, int width)
    {
        using var scope = NewDisposeScope();
        var t = empty([FastFill.ChunkElements + 4099], wide ? ScalarType.Float64 : ScalarType.Float32);
        int saved = FastFill.Width;
        try
        {
            FastFill.Width = width;
            FastFill.Fill(t, Draw(dist), 2, stats: false);
        }
        finally { FastFill.Width = saved; }
        return Convert.ToHexString(SHA256.HashData(t.bytes.ToArray()), 0, 16);
    }

    [Theory]
    [MemberData(nameof(Golden))]
    public void Fast_mode_gives_the_golden_bits_on_every_target_and_width(int distribution, bool wide, string expected)
    {
        var dist = (FastDistribution)distribution;
        Assert.Equal(expected, Hash(dist, wide, 256));
        if (V512.IsAccelerated) Assert.Equal(expected, Hash(dist, wide, 512));
    }

    /// <summary>Inputs where a separate multiply and add round differently from a fused multiply-add.</summary>
    private static (double A, double B, double C)[] FmaCases()
    {
        var rng = new Random(7);
        var cases = new List<(double, double, double)> { (1 + Math.Pow(2, -30), 1 - Math.Pow(2, -30), -1), (0.1, 10, -1) };
        for (int i = 0; i < 64; i++) cases.Add((rng.NextDouble() * 4 - 2, rng.NextDouble() * 4 - 2, rng.NextDouble() * 4 - 2));
        return cases.ToArray();
    }

    [Fact]
    public void The_256_bit_fused_multiply_add_rounds_once_like_Math_FusedMultiplyAdd()
    {
        var cases = FmaCases();
        int separateDiffers = 0;
        for (int i = 0; i + 8 <= cases.Length; i += 8)
        {
            var a = cases.Skip(i).Take(8).ToArray();
            var fa = Vector256.Create(a.Select(x => (float)x.A).ToArray());
            var fb = Vector256.Create(a.Select(x => (float)x.B).ToArray());
            var fc = Vector256.Create(a.Select(x => (float)x.C).ToArray());
            var f = Bits(V256.FmaF(Wrap(fa), Wrap(fb), Wrap(fc))).AsSingle();
            for (int j = 0; j < 8; j++)
            {
                float expected = MathF.FusedMultiplyAdd(fa[j], fb[j], fc[j]);
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(f[j]));
                if (expected != fa[j] * fb[j] + fc[j]) separateDiffers++;
            }
            for (int h = 0; h < 2; h++)
            {
                var q = a.Skip(4 * h).Take(4).ToArray();
                var da = Vector256.Create(q.Select(x => x.A).ToArray());
                var db = Vector256.Create(q.Select(x => x.B).ToArray());
                var dc = Vector256.Create(q.Select(x => x.C).ToArray());
                var d = Bits(V256.FmaD(Wrap(da), Wrap(db), Wrap(dc))).AsDouble();
                for (int j = 0; j < 4; j++)
                {
                    double expected = Math.FusedMultiplyAdd(da[j], db[j], dc[j]);
                    Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(d[j]));
                    if (expected != da[j] * db[j] + dc[j]) separateDiffers++;
                }
            }
        }
        Assert.True(separateDiffers > 0, "the cases must include some where multiply-then-add rounds differently");
    }

    private static unsafe V256 Wrap<T>(Vector256<T> v)
    {
        var u = v.AsUInt32();
        return V256.Load(&u);
    }

    private static unsafe Vector256<uint> Bits(V256 v)
    {
        Vector256<uint> r;
        V256.Store(&r, v);
        return r;
    }
}
