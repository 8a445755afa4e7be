using TorchInit.Exact;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The parallel exact <c>uniform_</c> (<see cref="ParallelUniform"/>): the same bits as libtorch's own <c>uniform_</c> for
/// many sizes, both dtypes, several seeds and ranges, chained calls, and the generator left where libtorch leaves it
/// (the next draws, uniform and normal, are unchanged).
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class ExactParallelTests
{
    public static readonly long[] Sizes =
        [1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 311, 312, 313, 623, 624, 625, 1247, 1248, 1249, 4096, 10_000, 65_537, 100_000];

    internal static byte[] Bytes(Tensor t) => t.contiguous().bytes.ToArray();

    internal static void AssertSameState(Generator a, Generator b)
    {
        using var sa = a.get_state();
        using var sb = b.get_state();
        Assert.Equal(Bytes(sa), Bytes(sb));
    }

    [Theory]
    [InlineData(ScalarType.Float32, 0L, -1.0, 1.0)]
    [InlineData(ScalarType.Float32, 42L, -0.0547, 0.0547)]
    [InlineData(ScalarType.Float32, 123456789L, 0.25, 3.5)]
    [InlineData(ScalarType.Float64, 0L, -1.0, 1.0)]
    [InlineData(ScalarType.Float64, 42L, -0.0547, 0.0547)]
    [InlineData(ScalarType.Float64, 987654321L, -7.0, 0.125)]
    public void Uniform_is_libtorchs_for_every_size_and_chained(ScalarType dtype, long seed, double lo, double hi) => Bounded.Run(() =>
    {
        using var scope = NewDisposeScope();
        using var g1 = new Generator((ulong)seed);
        using var g2 = new Generator((ulong)seed);
        foreach (var n in Sizes)
        {
            var expected = empty(n, dtype).uniform_(lo, hi, g1);
            var actual = empty(n, dtype);
            Assert.True(ParallelUniform.TryUniform(actual, lo, hi, g2, 2));
            Assert.True(Bytes(expected).SequenceEqual(Bytes(actual)), $"uniform_ differs at n = {n}");
            AssertSameState(g1, g2);
        }
        // libtorch's own draws after ours: a uniform, a normal (scalar path and vector path), then ours again.
        Assert.Equal(Bytes(empty(1000, dtype).uniform_(0, 1, g1)), Bytes(empty(1000, dtype).uniform_(0, 1, g2)));
        Assert.Equal(Bytes(empty(5).normal_(0, 1, g1)), Bytes(empty(5).normal_(0, 1, g2)));
        Assert.Equal(Bytes(empty(1, ScalarType.Float64).normal_(0, 1, g1)), Bytes(empty(1, ScalarType.Float64).normal_(0, 1, g2)));
        var e2 = empty(777, dtype).uniform_(lo, hi, g1);
        var a2 = empty(777, dtype);
        Assert.True(ParallelUniform.TryUniform(a2, lo, hi, g2, 1));
        Assert.Equal(Bytes(e2), Bytes(a2));
        AssertSameState(g1, g2);
    });

    [Theory]
    [InlineData(ScalarType.Float32, 3_000_001L)]
    [InlineData(ScalarType.Float64, 1_500_001L)]
    public void Large_draws_split_among_threads_are_libtorchs(ScalarType dtype, long n) => Bounded.Run(() =>
    {
        using var scope = NewDisposeScope();
        foreach (var threads in new[] { 1, 2, 3 })
        {
            using var g1 = new Generator(2024);
            using var g2 = new Generator(2024);
            empty(11, dtype).uniform_(0, 1, g1);   // an unaligned start
            empty(11, dtype).uniform_(0, 1, g2);
            var expected = empty(n, dtype).uniform_(-0.3, 0.3, g1);
            var actual = empty(n, dtype);
            Assert.True(ParallelUniform.TryUniform(actual, -0.3, 0.3, g2, threads));
            Assert.True(Bytes(expected).SequenceEqual(Bytes(actual)), $"differs with {threads} threads");
            AssertSameState(g1, g2);
        }
    });

    [Theory]
    [InlineData(ScalarType.Float32, 1L << 25)]
    [InlineData(ScalarType.Float64, 1L << 24)]
    public void Large_draws_from_a_fresh_generator_are_libtorchs(ScalarType dtype, long n) => Bounded.Run(() =>
    {
        // A freshly seeded generator's state array is its seeding, not a regeneration: the low 31 bits of its first word
        // are no term of the recurrence, so jumping from that window gets the first word of a part wrong about half the time.
        using var scope = NewDisposeScope();
        foreach (var seed in new ulong[] { 777, 1, 5 })
        {
            using var g1 = new Generator(seed);
            using var g2 = new Generator(seed);
            var expected = empty(n, dtype).uniform_(-0.3, 0.3, g1);
            var actual = empty(n, dtype);
            Assert.True(ParallelUniform.TryUniform(actual, -0.3, 0.3, g2, 2));
            Assert.Equal(0L, expected.ne(actual).sum().item<long>());
            AssertSameState(g1, g2);
        }
    });

    [Fact]
    public void Seeded_exact_init_takes_the_parallel_path_with_the_same_weights() => Bounded.Run(() =>
    {
        using var scope = NewDisposeScope();
        var options = new InitOptions { Seed = 5 };
        foreach (var scheme in new[] { InitScheme.TorchDefault, InitScheme.GlorotTruncatedNormal, InitScheme.HeUniform })
        {
            var a = nn.Linear(300, 700);
            var b = nn.Linear(300, 700);
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
        Assert.False(ParallelUniform.TryUniform(empty(10, dtype: ScalarType.Float16), 0, 1, g, 2));
        Assert.False(ParallelUniform.TryUniform(empty(10, 10).t(), 0, 1, g, 2));
        Assert.False(ParallelUniform.TryUniform(empty(10), 0, 1, null, 2));
        Assert.False(ParallelUniform.TryUniform(empty(10), 1, 0, g, 2));
    });
    [Theory]
    [InlineData(ScalarType.Float32, false)]
    [InlineData(ScalarType.Float64, false)]
    [InlineData(ScalarType.Float32, true)]
    [InlineData(ScalarType.Float64, true)]
    public void Concurrent_draws_on_one_generator_take_consecutive_words(ScalarType dtype, bool normal) => Bounded.Run(() =>
    {
        // Two threads drawing from one shared generator must not both read the same state (identical weights in two
        // models): each call holds the generator from get_state to set_state, so the pair equals two serial draws in
        // some order, and the generator ends where two serial draws leave it.
        using var scope = NewDisposeScope();
        const long n = 1 << 21;
        for (int round = 0; round < 4; round++)
        {
            using var shared = new Generator(77);
            var a = empty(n, dtype);
            var b = empty(n, dtype);
            void Draw(Tensor t)
            {
                bool drawn = normal ? ParallelNormal.TryNormal(t, 0, 1, shared, 2) : ParallelUniform.TryUniform(t, -1, 1, shared, 2);
                Assert.True(drawn || normal);   // the normal path may be off where calibration found no variant
                if (!drawn) using (no_grad()) t.normal_(0, 1, shared);
            }
            Parallel.Invoke(() => Draw(a), () => Draw(b));
            using var serial = new Generator(77);
            var first = normal ? empty(n, dtype).normal_(0, 1, serial) : empty(n, dtype).uniform_(-1, 1, serial);
            var second = normal ? empty(n, dtype).normal_(0, 1, serial) : empty(n, dtype).uniform_(-1, 1, serial);
            bool inOrder = Bytes(a).SequenceEqual(Bytes(first)) && Bytes(b).SequenceEqual(Bytes(second));
            bool swapped = Bytes(b).SequenceEqual(Bytes(first)) && Bytes(a).SequenceEqual(Bytes(second));
            Assert.True(inOrder || swapped, $"round {round}: the two concurrent draws are not two consecutive serial draws");
            AssertSameState(shared, serial);
        }
    });
}
