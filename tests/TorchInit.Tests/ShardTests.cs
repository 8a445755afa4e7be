using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// <see cref="Init.FastShard"/> and <see cref="Init.FastShardAlong"/>: the shards of several different splits (flat ranges
/// at unaligned cuts, row blocks, column blocks, a block of a middle dimension) concatenate to the bits of the whole tensor
/// that fast-mode <c>ApplyInit</c> writes, for both dtypes and the three distributions.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class ShardTests
{
    private const long Seed = 4242;

    private static InitOptions Fast(int? threads = null) => new() { Engine = DrawEngine.Fast, Seed = Seed, MaxDegreeOfParallelism = threads };

    public static IEnumerable<object[]> Cases() =>
        from scheme in new[] { "HeNormal", "GlorotUniform", "LeCunTruncatedNormal", "Normal(0.5, 0.02)", "TorchDefault", "Constant(0.25)" }
        from dtype in new[] { ScalarType.Float32, ScalarType.Float64 }
        select new object[] { scheme, dtype };

    private static Tensor Whole(long[] shape, InitScheme scheme, ScalarType dtype)
    {
        var t = empty(shape, dtype);
        t.ApplyInit(scheme, Fast());
        return t;
    }

    private static void AssertBits(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.True(expected.contiguous().bytes.SequenceEqual(actual.contiguous().bytes), "the shards differ from the whole");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Flat_ranges_at_any_cut_concatenate_to_the_whole(string schemeText, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var scheme = InitScheme.Parse(schemeText);
        long[] shape = [700, 900];   // 630,000 elements: three fast-mode chunks
        var whole = Whole(shape, scheme, dtype).view(-1);
        long n = whole.numel();
        long[][] splits =
        [
            [0, n],
            [0, 1, 63, 64, 65, 1000, 262143, 262145, 524288, 524289, n - 5, n],
            [0, 17, 100_003, 333_333, n],
        ];
        foreach (var cuts in splits)
        {
            var parts = new List<Tensor>();
            for (int i = 0; i + 1 < cuts.Length; i++)
            {
                var part = empty([cuts[i + 1] - cuts[i]], dtype);
                Init.FastShard(part, scheme, shape, cuts[i], Seed, maxDegreeOfParallelism: 1 + i % 2);
                parts.Add(part);
            }
            AssertBits(whole, cat(parts, 0));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Row_and_column_blocks_concatenate_to_the_whole(string schemeText, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var scheme = InitScheme.Parse(schemeText);
        long[] shape = [700, 900];
        var whole = Whole(shape, scheme, dtype);
        foreach (var (dim, cuts) in new (int, long[])[] { (0, [0, 350, 700]), (0, [0, 1, 99, 500, 700]), (1, [0, 450, 900]), (1, [0, 3, 64, 65, 777, 900]), (-1, [0, 300, 600, 900]) })
        {
            var parts = new List<Tensor>();
            for (int i = 0; i + 1 < cuts.Length; i++)
            {
                var s = (long[])shape.Clone();
                s[dim < 0 ? dim + 2 : dim] = cuts[i + 1] - cuts[i];
                var part = empty(s, dtype);
                Init.FastShardAlong(part, scheme, shape, dim, cuts[i], Seed);
                parts.Add(part);
            }
            AssertBits(whole, cat(parts, dim));
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Blocks_of_a_conv_weight_along_every_dimension(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        long[] shape = [64, 48, 5, 7];
        foreach (var scheme in new[] { InitScheme.HeNormal, InitScheme.GlorotUniform, InitScheme.HeTruncatedNormal })
        {
            var whole = Whole(shape, scheme, dtype);
            for (int dim = 0; dim < 4; dim++)
            {
                long size = shape[dim], cut = size / 3 + 1;
                var parts = new List<Tensor>();
                foreach (var (st, len) in new[] { (0L, cut), (cut, size - cut) })
                {
                    var s = (long[])shape.Clone();
                    s[dim] = len;
                    parts.Add(Init.FastShardAlong(empty(s, dtype), scheme, shape, dim, st, Seed));
                }
                AssertBits(whole, cat(parts, dim));
            }
        }
    }

    [Fact]
    public void A_models_later_parameter_is_its_stream()
    {
        using var scope = NewDisposeScope();
        var first = nn.Linear(300, 200);
        var last = nn.Linear(200, 100);
        var model = nn.Sequential(first, last);
        model.ApplyInit(InitScheme.HeNormal, Fast());
        var second = last.weight!;
        // Weight 0 is stream 0, the zero biases draw nothing, weight 1 is stream 1.
        var top = Init.FastShardAlong(empty(60, 200), InitScheme.HeNormal, [100, 200], 0, 0, Seed, stream: 1);
        var bottom = Init.FastShardAlong(empty(40, 200), InitScheme.HeNormal, [100, 200], 0, 60, Seed, stream: 1);
        AssertBits(second.detach(), cat([top, bottom], 0));
    }

    [Fact]
    public void Other_dtypes_and_layouts_get_the_rounded_values()
    {
        using var scope = NewDisposeScope();
        long[] shape = [300, 500];
        var whole = Whole(shape, InitScheme.GlorotUniform, ScalarType.Float32);
        var half = Init.FastShardAlong(empty(300, 123, dtype: ScalarType.BFloat16), InitScheme.GlorotUniform, shape, 1, 200, Seed);
        AssertBits(whole.narrow(1, 200, 123).to_type(ScalarType.BFloat16), half);
        var strided = empty(123, 300).t();   // non-contiguous [300, 123]
        Init.FastShardAlong(strided, InitScheme.GlorotUniform, shape, 1, 200, Seed);
        AssertBits(whole.narrow(1, 200, 123), strided.contiguous());
    }

    [Fact]
    public void The_values_do_not_depend_on_the_thread_count()
    {
        using var scope = NewDisposeScope();
        long[] shape = [1000, 1100];
        var one = Init.FastShard(empty(600_001), InitScheme.HeTruncatedNormal, shape, 77, Seed, maxDegreeOfParallelism: 1);
        var two = Init.FastShard(empty(600_001), InitScheme.HeTruncatedNormal, shape, 77, Seed, maxDegreeOfParallelism: 2);
        AssertBits(one, two);
    }

    [Fact]
    public void Bad_shards_and_libtorch_schemes_are_refused()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => Init.FastShard(empty(10), InitScheme.HeNormal, [3, 3], 0, Seed));
        Assert.Throws<ArgumentException>(() => Init.FastShardAlong(empty(2, 4), InitScheme.HeNormal, [4, 3], 0, 0, Seed));
        Assert.Throws<ArgumentException>(() => Init.FastShardAlong(empty(3, 3), InitScheme.HeNormal, [4, 3], 0, 2, Seed));
        Assert.Throws<ArgumentException>(() => Init.FastShard(empty(4), InitScheme.HeNormal, [4, 3], 0, -1));
        Assert.Throws<NotSupportedException>(() => Init.FastShard(empty(4), InitScheme.Orthogonal, [4, 3], 0, Seed));
    }
}
