using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchInit.Exact;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The parallel exact <c>normal_</c> (<see cref="ParallelNormal"/>): the same bits as libtorch's own <c>normal_</c> for
/// many sizes (whole blocks of 16 and re-drawn last blocks), both dtypes, several seeds, means and standard deviations,
/// chained with uniform draws, and the generator left where libtorch leaves it; the float32 transform checked on 2²⁵
/// libtorch draws and lane by lane against its scalar twin for every 24-bit uniform.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class ExactParallelNormalTests
{
    public static readonly long[] Sizes =
        [16, 17, 31, 32, 33, 47, 48, 100, 623, 624, 625, 1000, 1249, 4096, 10_001, 65_537, 100_000];

    private static byte[] Bytes(Tensor t) => ExactParallelTests.Bytes(t);

    private static void AssertSameState(Generator a, Generator b) => ExactParallelTests.AssertSameState(a, b);

    private static bool Calibrated(ScalarType dtype) =>
        dtype == ScalarType.Float32 ? ParallelNormal.CalibratedFloat is not null : ParallelNormal.CalibratedDouble is not null;

    [Fact]
    public void Calibration_finds_libtorchs_variant_here() => Bounded.Run(() =>
    {
        // The TorchSharp libtorch this suite runs on dispatches its AVX2 kernel on AVX2 + FMA CPUs (GCC-built, contracted).
        if (Avx2.IsSupported && Fma.IsSupported) Assert.Equal(ParallelNormal.FloatMode.Contracted, ParallelNormal.CalibratedFloat);
        if (OperatingSystem.IsLinux()) Assert.NotNull(ParallelNormal.CalibratedDouble);
    });

    [Theory]
    [InlineData(ScalarType.Float32, 0L, 0.0, 1.0)]
    [InlineData(ScalarType.Float32, 42L, 0.0, 0.0547)]
    [InlineData(ScalarType.Float32, 123456789L, -2.5, 3.25)]
    [InlineData(ScalarType.Float64, 0L, 0.0, 1.0)]
    [InlineData(ScalarType.Float64, 42L, 0.0, 0.0547)]
    [InlineData(ScalarType.Float64, 987654321L, 7.0, 0.125)]
    public void Normal_is_libtorchs_for_every_size_and_chained(ScalarType dtype, long seed, double mean, double std) => Bounded.Run(() =>
    {
        if (!Calibrated(dtype)) return;
        using var scope = NewDisposeScope();
        using var g1 = new Generator((ulong)seed);
        using var g2 = new Generator((ulong)seed);
        foreach (var n in Sizes)
        {
            var expected = empty(n, dtype).normal_(mean, std, g1);
            var actual = empty(n, dtype);
            Assert.True(ParallelNormal.TryNormal(actual, mean, std, g2, 2));
            Assert.True(Bytes(expected).SequenceEqual(Bytes(actual)), $"normal_ differs at n = {n}");
            AssertSameState(g1, g2);
        }
        // Normal after uniform after normal, ours and libtorch's interleaved, then libtorch's own draws.
        var e1 = empty(1001, dtype).uniform_(-1, 1, g1);
        var a1 = empty(1001, dtype);
        Assert.True(ParallelUniform.TryUniform(a1, -1, 1, g2, 2));
        Assert.Equal(Bytes(e1), Bytes(a1));
        var e2 = empty(777, dtype).normal_(mean, std, g1);
        var a2 = empty(777, dtype);
        Assert.True(ParallelNormal.TryNormal(a2, mean, std, g2, 1));
        Assert.Equal(Bytes(e2), Bytes(a2));
        AssertSameState(g1, g2);
        Assert.Equal(Bytes(empty(1000, dtype).uniform_(0, 1, g1)), Bytes(empty(1000, dtype).uniform_(0, 1, g2)));
        Assert.Equal(Bytes(empty(5).normal_(0, 1, g1)), Bytes(empty(5).normal_(0, 1, g2)));   // libtorch's scalar path
        Assert.Equal(Bytes(empty(1, ScalarType.Float64).normal_(0, 1, g1)), Bytes(empty(1, ScalarType.Float64).normal_(0, 1, g2)));
        Assert.Equal(Bytes(empty(64, dtype).normal_(mean, std, g1)), Bytes(empty(64, dtype).normal_(mean, std, g2)));
        AssertSameState(g1, g2);
    });

    [Theory]
    [InlineData(ScalarType.Float32, 3_000_017L)]
    [InlineData(ScalarType.Float64, 1_500_007L)]
    [InlineData(ScalarType.Float32, 3_000_000L)]
    public void Large_draws_split_among_threads_are_libtorchs(ScalarType dtype, long n) => Bounded.Run(() =>
    {
        if (!Calibrated(dtype)) return;
        using var scope = NewDisposeScope();
        foreach (var threads in new[] { 1, 2, 3 })
        {
            using var g1 = new Generator(2024);
            using var g2 = new Generator(2024);
            empty(11, dtype).uniform_(0, 1, g1);   // an unaligned start
            empty(11, dtype).uniform_(0, 1, g2);
            var expected = empty(n, dtype).normal_(0.01, 0.3, g1);
            var actual = empty(n, dtype);
            Assert.True(ParallelNormal.TryNormal(actual, 0.01, 0.3, g2, threads));
            Assert.True(Bytes(expected).SequenceEqual(Bytes(actual)), $"differs with {threads} threads");
            AssertSameState(g1, g2);
        }
    });

    [Fact]
    public void Transform_matches_libtorch_on_a_large_draw() => Bounded.Run(() =>
    {
        // 2²⁵ elements: 2²⁴ (u₁, u₂) pairs of 24-bit uniforms, about 63% of the u₁ and of the u₂ values.
        if (!Calibrated(ScalarType.Float32)) return;
        using var scope = NewDisposeScope();
        const long n = 1L << 25;
        using var g1 = new Generator(777);
        using var g2 = new Generator(777);
        var expected = empty(n).normal_(0, 1, g1);
        var actual = empty(n);
        Assert.True(ParallelNormal.TryNormal(actual, 0, 1, g2, 2));
        var diffIdx = expected.ne(actual).nonzero().view(-1);
        var report = new System.Text.StringBuilder($"{diffIdx.numel()} of {n} elements differ; the first: ");
        if (diffIdx.numel() > 0)
        {
            using var g3 = new Generator(777);
            var u = empty(n).uniform_(0, 1, g3);
            // At most 20 described: a broken stream makes nearly every element differ, and describing 2²⁵ of them one
            // item() at a time would run for hours instead of failing.
            foreach (var i in diffIdx.narrow(0, 0, Math.Min(20, diffIdx.numel())).data<long>().ToArray())
            {
                long b = i / 16 * 16, j = i % 16;
                float u1 = 1f - u[b + j % 8].item<float>(), u2 = u[b + 8 + j % 8].item<float>();
                report.Append($"i={i} exp={expected[i].item<float>():R} act={actual[i].item<float>():R} u1={u1:R} u2={u2:R} bits {BitConverter.SingleToInt32Bits(expected[i].item<float>()):X8} {BitConverter.SingleToInt32Bits(actual[i].item<float>()):X8}; ");
            }
        }
        Assert.True(diffIdx.numel() == 0, report.ToString());
        AssertSameState(g1, g2);
    });

    [Fact]
    public unsafe void Vector_port_equals_its_scalar_twin_for_every_24_bit_uniform() => Bounded.Run(() =>
    {
        if (!Avx2.IsSupported || !Fma.IsSupported) return;
        Check<ParallelNormal.ContractedOps>();
        Check<ParallelNormal.SeparateOps>();

        static void Check<T>() where T : ParallelNormal.IOps
        {
            var lanes = new float[8];
            long bad = 0;
            for (uint k = 0; k < 1u << 24; k += 8)
            {
                for (int j = 0; j < 8; j++) lanes[j] = ParallelUniform.UniformFloat(k + (uint)j);
                var u = Vector256.Create(lanes);
                var log = ParallelNormal.Log<T>(Vector256.Create(1f) - u);
                ParallelNormal.SinCos<T>(u * Vector256.Create((float)(2.0 * Math.PI)), out var sin, out var cos);
                for (int j = 0; j < 8; j++)
                {
                    float uj = lanes[j];
                    var (s, c) = ParallelNormal.SinCosScalar<T>((float)(2.0 * Math.PI) * uj);
                    if (BitConverter.SingleToInt32Bits(ParallelNormal.LogScalar<T>(1f - uj)) != BitConverter.SingleToInt32Bits(log.GetElement(j))
                        || BitConverter.SingleToInt32Bits(s) != BitConverter.SingleToInt32Bits(sin.GetElement(j))
                        || BitConverter.SingleToInt32Bits(c) != BitConverter.SingleToInt32Bits(cos.GetElement(j)))
                        bad++;
                }
            }
            Assert.Equal(0L, bad);
        }
    });

    [Fact]
    public void Port_is_accurate_for_every_24_bit_uniform() => Bounded.Run(() =>
    {
        // Not libtorch's bits, a sanity check of the port: Cephes' float log and sincos are within a few ulps.
        double worstLog = 0, worstTrig = 0;
        for (uint k = 1; k < 1u << 24; k += 7)
        {
            float u = ParallelUniform.UniformFloat(k);
            float l = ParallelNormal.LogScalar<ParallelNormal.ContractedOps>(1f - u);
            double exact = Math.Log(1.0 - u);
            if (exact != 0) worstLog = Math.Max(worstLog, Math.Abs(l - exact) / Math.Abs(exact));
            float theta = (float)(2.0 * Math.PI) * u;
            var (s, c) = ParallelNormal.SinCosScalar<ParallelNormal.ContractedOps>(theta);
            worstTrig = Math.Max(worstTrig, Math.Max(Math.Abs(s - Math.Sin(theta)), Math.Abs(c - Math.Cos(theta))));
        }
        Assert.True(worstLog < 1e-6, $"log relative error {worstLog}");
        Assert.True(worstTrig < 1e-6, $"sin/cos error {worstTrig}");
    });

    [Fact]
    public void Seeded_exact_init_takes_the_parallel_path_with_the_same_weights() => Bounded.Run(() =>
    {
        using var scope = NewDisposeScope();
        foreach (var (scheme, dtype) in new[] { (InitScheme.HeNormal, ScalarType.Float32), (InitScheme.GlorotNormal, ScalarType.Float32), (InitScheme.HeNormal, ScalarType.Float64) })
        {
            var options = new InitOptions { Seed = 1 };
            var a = nn.Linear(300, 700).to(dtype);
            var b = nn.Linear(300, 700).to(dtype);
            ExactSampling.ParallelExact = false;
            try { a.ApplyInit(scheme, options); }
            finally { ExactSampling.ParallelExact = true; }
            b.ApplyInit(scheme, options);
            Assert.Equal(Bytes(a.weight!), Bytes(b.weight!));
            Assert.Equal(Bytes(a.bias!), Bytes(b.bias!));
        }
    });

    [Fact]
    public void Other_cases_are_left_to_libtorch() => Bounded.Run(() =>
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        using var before = g.get_state();
        Assert.False(ParallelNormal.TryNormal(empty(100, dtype: ScalarType.Float16), 0, 1, g, 2));
        Assert.False(ParallelNormal.TryNormal(empty(10, 10).t(), 0, 1, g, 2));
        Assert.False(ParallelNormal.TryNormal(empty(100), 0, 1, null, 2));
        Assert.False(ParallelNormal.TryNormal(empty(15), 0, 1, g, 2));              // libtorch's scalar path
        Assert.False(ParallelNormal.TryNormal(empty(15, ScalarType.Float64), 0, 1, g, 2));
        Assert.False(ParallelNormal.TryNormal(empty(100), 0, -1, g, 2));            // libtorch raises
        Assert.False(ParallelNormal.TryNormal(empty(100), double.NaN, 1, g, 2));
        using var after = g.get_state();
        Assert.Equal(Bytes(before), Bytes(after));
    });
}
