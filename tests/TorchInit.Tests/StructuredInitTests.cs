using TorchSharp;
using static TorchSharp.torch;
using F = TorchInit.Tests.ReferenceFixtures;

namespace TorchInit.Tests;

/// <summary>
/// eye_, dirac_, sparse_ and delta-orthogonal against real PyTorch (the "structured" fixtures of
/// scripts/gen_fixtures.py): eye, dirac and sparse bit for bit; delta-orthogonal (an orthogonal_ on the kernel centre,
/// whose QR runs in a different LAPACK) to 1e-5 and for orthogonality. Plus the error cases, the generator, no leaked
/// tensors, and the distribution of sparse_'s non-zero values.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class StructuredInitTests
{
    public static TheoryData<string> Cases => F.Ids("structured");

    [Fact]
    public void Fixtures_cover_every_structured_initializer_in_both_dtypes()
    {
        var cases = F.Cases("structured").ToList();
        foreach (var op in new[] { "eye_", "dirac_", "sparse_", "delta_orthogonal" })
            foreach (var dtype in new[] { "float32", "float64" })
                Assert.Contains(cases, c => c.GetProperty("op").GetString() == op && c.GetProperty("result").GetProperty("dtype").GetString() == dtype);
        foreach (int dims in new[] { 3, 4, 5 })
        {
            Assert.Contains(cases, c => c.GetProperty("op").GetString() == "dirac_" && F.Shape(c.GetProperty("result")).Length == dims && c.GetProperty("args").GetProperty("groups").GetInt32() > 1);
            Assert.Contains(cases, c => c.GetProperty("op").GetString() == "delta_orthogonal" && F.Shape(c.GetProperty("result")).Length == dims);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Structured_initializers_equal_pytorch(string id)
    {
        var c = F.Case(id);
        var expected = c.GetProperty("result");
        var args = c.GetProperty("args");
        using var scope = NewDisposeScope();
        using var g = new Generator((ulong)c.GetProperty("seed").GetInt64());
        var t = full(F.Shape(expected), double.NaN, F.DType(expected)); // every element must be written
        switch (c.GetProperty("op").GetString())
        {
            case "eye_":
                Assert.Same(t, Init.Eye(t));
                F.AssertMatches(expected, t, id);
                break;
            case "dirac_":
                Assert.Same(t, Init.Dirac(t, args.GetProperty("groups").GetInt32()));
                F.AssertMatches(expected, t, id);
                break;
            case "sparse_":
                Assert.Same(t, Init.Sparse(t, args.GetProperty("sparsity").GetDouble(), args.GetProperty("std").GetDouble(), g));
                F.AssertMatches(expected, t, id);
                break;
            case "delta_orthogonal":
                double gain = args.GetProperty("gain").GetDouble();
                Assert.Same(t, Init.DeltaOrthogonal(t, gain, g));
                F.AssertWithin(expected, t, 1e-5, id);
                AssertDeltaOrthogonal(t, gain, id);
                break;
            default:
                throw new ArgumentException(id);
        }
    }

    /// <summary>Zero everywhere but the kernel centre; the centre's rows (out ≤ in) or columns (out &gt; in) orthonormal × gain.</summary>
    private static void AssertDeltaOrthogonal(Tensor t, double gain, string what)
    {
        using var scope = NewDisposeScope();
        var w = t.to(ScalarType.Float64);
        var centre = w[[TensorIndex.Colon, TensorIndex.Colon, .. t.shape.Skip(2).Select(k => TensorIndex.Single(k / 2))]];
        var rest = w.clone();
        rest[[TensorIndex.Colon, TensorIndex.Colon, .. t.shape.Skip(2).Select(k => TensorIndex.Single(k / 2))]] = zeros_like(centre);
        Assert.Equal(0.0, rest.abs().max().item<double>());
        long rows = centre.shape[0], cols = centre.shape[1];
        var q = centre / gain;
        var gram = rows <= cols ? q.matmul(q.t()) : q.t().matmul(q);
        double error = (gram - eye(Math.Min(rows, cols), dtype: ScalarType.Float64)).abs().max().item<double>();
        Assert.True(error < 1e-5, $"{what}: |QᵀQ − I| = {error:G3}");
    }

    [Fact]
    public void Sparse_draws_normal_and_zeroes_exactly_ceil_sparsity_rows_per_column()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(12345);
        const long rows = 400, cols = 300;
        const double sparsity = 0.35, std = 0.05;
        var t = empty(rows, cols, ScalarType.Float64);
        Init.Sparse(t, sparsity, std, g);
        long zerosPerColumn = (long)Math.Ceiling(sparsity * rows);
        var zeroCounts = t.eq(0).sum(0, type: ScalarType.Int64).data<long>().ToArray();
        Assert.All(zeroCounts, z => Assert.Equal(zerosPerColumn, z));
        var nonZero = t.masked_select(t.ne(0)).data<double>().ToArray();
        Assert.Equal((rows - zerosPerColumn) * cols, nonZero.Length);
        var (d, p) = Stats.KolmogorovSmirnov(nonZero, x => Stats.NormalCdf(x, 0, std));
        Assert.True(p > 1e-4, $"non-zero values are not N(0, {std}²): KS D = {d:G3}, p = {p:G3}");
        // The zeroed rows differ from column to column (one randperm per column).
        var zeroRowsFirstCol = t.select(1, 0).eq(0);
        Assert.Contains(Enumerable.Range(1, (int)cols - 1), j => !Same(t.select(1, j).eq(0), zeroRowsFirstCol));
    }

    [Fact]
    public void Generator_is_honoured_and_the_global_generator_untouched()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(99);
        var globalBefore = torch.rand(4);
        torch.manual_seed(99);
        var a = empty(20, 10);
        var b = empty(20, 10);
        var c = empty(20, 10);
        using (var g1 = new Generator(7)) Init.Sparse(a, 0.5, 0.1, g1);
        using (var g2 = new Generator(7)) Init.Sparse(b, 0.5, 0.1, g2);
        using (var g3 = new Generator(8)) Init.Sparse(c, 0.5, 0.1, g3);
        var d1 = empty(8, 4, 3, 3);
        var d2 = empty(8, 4, 3, 3);
        var d3 = empty(8, 4, 3, 3);
        using (var g1 = new Generator(7)) Init.DeltaOrthogonal(d1, 1.0, g1);
        using (var g2 = new Generator(7)) Init.DeltaOrthogonal(d2, 1.0, g2);
        using (var g3 = new Generator(8)) Init.DeltaOrthogonal(d3, 1.0, g3);
        Assert.True(Same(torch.rand(4), globalBefore), "the global generator was used");
        Assert.True(Same(a, b));
        Assert.False(Same(a, c));
        Assert.True(Same(d1, d2));
        Assert.False(Same(d1, d3));
        // The same seed through the global generator: PyTorch's torch.manual_seed(s); sparse_(w) (randperm from the global generator).
        torch.manual_seed(7);
        var global = Init.Sparse(empty(20, 10), 0.5, 0.1);
        Assert.True(Same(global, a));
    }

    [Theory]
    [InlineData(0.0, ScalarType.Float32)]    // no zero to set: PyTorch's loop still calls randperm(rows) for every column
    [InlineData(0.0, ScalarType.Float64)]
    [InlineData(0.25, ScalarType.Float32)]
    public void Sparse_leaves_the_generator_where_pytorchs_normal_then_one_randperm_per_column_does(double sparsity, ScalarType dtype)
    {
        // torch/nn/init.py sparse_: tensor.normal_(0, std, generator); then for col_idx in range(cols): torch.randperm(rows),
        // whatever num_zeros is (checked with PyTorch 2.6: manual_seed(3); sparse_(empty(6, 4), 0.0); rand(3) equals
        // manual_seed(3); empty(6, 4).normal_(0, 0.01); four randperm(6); rand(3), and not without the randperms).
        // The fixtures compare the tensor only; this compares the generator afterwards, replayed with libtorch's own calls.
        using var scope = NewDisposeScope();
        const long rows = 37, cols = 23;
        const double std = 0.05;
        using var g = new Generator(2025);
        using var replay = new Generator(2025);
        var t = empty(rows, cols, dtype);
        Init.Sparse(t, sparsity, std, g);
        var normal = empty(rows, cols, dtype).normal_(0, std, replay);
        for (long col = 0; col < cols; col++) randperm(rows, generator: replay);
        ExactParallelTests.AssertSameState(replay, g);
        // So the draws that follow are the same as PyTorch's, e.g. the next layer's weights.
        Assert.Equal(ExactParallelTests.Bytes(empty(100).normal_(0, 1, replay)), ExactParallelTests.Bytes(empty(100).normal_(0, 1, g)));
        long zeros = (long)Math.Ceiling(sparsity * rows);
        Assert.Equal(zeros * cols, t.eq(0).sum().item<long>());
        if (zeros == 0) Assert.Equal(ExactParallelTests.Bytes(normal), ExactParallelTests.Bytes(t));   // the normal draw, untouched
        else Assert.True(Same(t.masked_fill(t.eq(0), 0), normal.masked_fill(t.eq(0), 0)), "the non-zero values are not the normal draw");
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void Structured_initializers_leak_no_native_tensors_and_write_under_no_grad()
    {
        var p = nn.Parameter(empty(6, 4, 3, 3));
        var e = nn.Parameter(empty(5, 7));
        using var g = new Generator(3);
        Init.Dirac(p, 2);
        Init.DeltaOrthogonal(p, 1.0, g);
        Init.Eye(e);
        Init.Sparse(e, 0.2, 0.01, g);
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); // finalize what earlier tests left to the GC
        long before = Tensor.TotalCount;
        for (int i = 0; i < 3; i++)
        {
            Init.Dirac(p, 2);
            Init.DeltaOrthogonal(p, 1.0, g);
            Init.Eye(e);
            Init.Sparse(e, 0.2, 0.01, g);
        }
        Assert.Equal(before, Tensor.TotalCount);
        Assert.True(p.requires_grad);
        Assert.Null(p.grad);
    }

    public static TheoryData<string, long[]> BadShapes => new()
    {
        { "eye", [5] }, { "eye", [2, 3, 4] }, { "dirac", [4, 4] }, { "dirac", [2, 2, 1, 1, 1, 1] },
        { "sparse", [5] }, { "sparse", [2, 3, 4] }, { "delta", [4, 4] }, { "delta", [1, 1, 1, 1, 1, 1] },
    };

    [Theory]
    [MemberData(nameof(BadShapes))]
    public void Bad_shapes_throw_ArgumentException_naming_the_shape(string op, long[] shape)
    {
        using var scope = NewDisposeScope();
        var t = zeros(shape);
        Action call = op switch
        {
            "eye" => () => Init.Eye(t),
            "dirac" => () => Init.Dirac(t),
            "sparse" => () => Init.Sparse(t, 0.1),
            _ => () => Init.DeltaOrthogonal(t),
        };
        var ex = Assert.Throws<ArgumentException>(call);
        Assert.Contains($"[{string.Join(", ", shape)}]", ex.Message);
        Assert.Equal(0.0, t.abs().sum().item<float>()); // untouched
    }

    [Fact]
    public void Bad_arguments_throw_ArgumentException()
    {
        using var scope = NewDisposeScope();
        var conv = zeros(6, 4, 3, 3);
        var m = zeros(5, 4);
        Assert.Contains("divisible by groups", Assert.Throws<ArgumentException>(() => Init.Dirac(conv, 4)).Message);
        Assert.Equal("groups", Assert.Throws<ArgumentException>(() => Init.Dirac(conv, 0)).ParamName);
        Assert.Equal("sparsity", Assert.Throws<ArgumentException>(() => Init.Sparse(m, -0.1)).ParamName);
        Assert.Equal("sparsity", Assert.Throws<ArgumentException>(() => Init.Sparse(m, 1.5)).ParamName);
        Assert.Equal("sparsity", Assert.Throws<ArgumentException>(() => Init.Sparse(m, double.NaN)).ParamName);
        Assert.Equal("std", Assert.Throws<ArgumentException>(() => Init.Sparse(m, 0.5, -1)).ParamName);
        Assert.Equal("std", Assert.Throws<ArgumentException>(() => Init.Sparse(m, 0.5, double.PositiveInfinity)).ParamName);
        Assert.Equal("gain", Assert.Throws<ArgumentException>(() => Init.DeltaOrthogonal(conv, -1)).ParamName);
        Assert.Equal("gain", Assert.Throws<ArgumentException>(() => Init.DeltaOrthogonal(conv, double.NaN)).ParamName);
        Assert.Equal(0.0, conv.abs().sum().item<float>() + m.abs().sum().item<float>()); // untouched
    }

    [Fact]
    public void Delta_orthogonal_preserves_the_norm_of_a_convolution_input()
    {
        // Xiao et al.'s point: with out ≥ in, the delta-orthogonal kernel is an isometry of the input (per position).
        using var scope = NewDisposeScope();
        using var g = new Generator(11);
        var w = Init.DeltaOrthogonal(empty(16, 8, 3, 3, ScalarType.Float64), 1.0, g);
        var x = randn(new long[] { 2, 8, 9, 9 }, ScalarType.Float64, generator: g);
        var y = nn.functional.conv2d(x, w, padding: [1, 1]);
        double nx = x.pow(2).sum().item<double>(), ny = y.pow(2).sum().item<double>();
        Assert.True(Math.Abs(nx - ny) < 1e-9 * nx, $"|x|² = {nx}, |conv(x)|² = {ny}");
    }
}
