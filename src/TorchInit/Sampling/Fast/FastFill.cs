using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Fast;

/// <summary>Realized statistics computed while filling: element count, mean, unbiased standard deviation.</summary>
internal readonly record struct Moments(long Count, double Mean, double Std);

/// <summary>
/// Drives the fast kernels over a tensor: splits its elements into fixed chunks (whose boundaries depend on
/// the element count only), fills them in parallel and combines the per-chunk sums in chunk order, so the
/// values and the statistics are the same for every thread count.
/// </summary>
/// <remarks>
/// A contiguous CPU float32/float64 tensor is written in place through its data pointer: nothing is
/// allocated. Any other floating tensor (float16/bfloat16, CUDA, non-contiguous) is generated chunk by chunk
/// into a CPU staging buffer (float64 for float64, else float32) and copied in with <c>copy_</c>, which
/// converts; its values equal those a float32/float64 CPU tensor of the same shape gets, rounded to its
/// dtype. A non-contiguous tensor is generated into one contiguous temporary of its shape.
/// </remarks>
internal static unsafe class FastFill
{
    /// <summary>Elements per parallel work item (a multiple of both group sizes): 2¹⁸ = 1 MiB of float32.</summary>
    public const long ChunkElements = 1L << 18;

    /// <summary>Elements per staging copy for tensors that cannot be written in place (4 MiB of float32).</summary>
    public const long StagingElements = 1L << 20;

    /// <summary>Which vector width the kernels run at; tests force the narrower one to compare.</summary>
    internal static int Width { get; set; } = V512.IsAccelerated ? 512 : 256;

    /// <summary>
    /// Fills <paramref name="t"/> with <paramref name="draw"/>. Returns the realized moments when
    /// <paramref name="stats"/> is set and they were computed on the stored values (in-place path), else null.
    /// </summary>
    public static Moments? Fill(Tensor t, in FastDraw draw, int maxDegreeOfParallelism, bool stats)
    {
        Validate(draw);
        long n = t.numel();
        if (n == 0) return null;
        var dtype = t.dtype;
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"Fast mode fills floating-point tensors; got {dtype}.", nameof(t));

        using var _ = no_grad();
        bool wide = dtype == ScalarType.Float64;
        if (t.device_type == DeviceType.CPU && t.is_contiguous() && (dtype == ScalarType.Float32 || wide))
        {
            var ptr = DataPointer(t);
            var m = FillRange(ptr, 0, n, wide, draw, maxDegreeOfParallelism, stats);
            BumpVersion(t);
            GC.KeepAlive(t);
            return m;
        }
        var stageType = wide ? ScalarType.Float64 : ScalarType.Float32;
        if (!t.is_contiguous())
        {
            using var tmp = empty(t.shape, stageType, CPU);
            FillRange(DataPointer(tmp), 0, n, wide, draw, maxDegreeOfParallelism, false);
            t.copy_(tmp);
            return null;
        }
        using var flat = t.view(-1);
        using var stage = empty([Math.Min(n, StagingElements)], stageType, CPU);
        var stagePtr = DataPointer(stage);
        for (long start = 0; start < n; start += StagingElements)
        {
            long len = Math.Min(StagingElements, n - start);
            FillRange(stagePtr, start, len, wide, draw, maxDegreeOfParallelism, false);
            using var dst = flat.narrow(0, start, len);
            using var src = stage.narrow(0, 0, len);
            dst.copy_(src);
        }
        GC.KeepAlive(stage);
        return null;
    }

    /// <summary>
    /// The mean and unbiased std of a contiguous CPU float32/float64 tensor in one parallel SIMD read
    /// (sums of x − x₀ and (x − x₀)², x₀ the first element, so that no cancellation occurs); null for other tensors.
    /// What <c>MeasureRealized</c> costs in exact mode: one read of the weights instead of libtorch's mean() and std().
    /// </summary>
    public static Moments? Measure(Tensor t, int maxDegreeOfParallelism)
    {
        long n = t.numel();
        var dtype = t.dtype;
        if (n < 2 || t.device_type != DeviceType.CPU || !t.is_contiguous() || dtype is not (ScalarType.Float32 or ScalarType.Float64))
            return null;
        bool wide = dtype == ScalarType.Float64;
        var ptr = DataPointer(t);
        double center = wide ? *(double*)ptr : *(float*)ptr;
        if (!double.IsFinite(center)) return null;
        long chunks = (n + ChunkElements - 1) / ChunkElements;
        var sums = new Kernels.Sums[chunks];
        bool w512 = Width == 512 && V512.IsAccelerated;
        void Chunk(long i)
        {
            long off = i * ChunkElements, len = Math.Min(ChunkElements, n - off);
            if (wide)
            {
                if (w512) Kernels.SumsF64<V512>((double*)ptr + off, len, center, ref sums[i]);
                else Kernels.SumsF64<V256>((double*)ptr + off, len, center, ref sums[i]);
            }
            else
            {
                if (w512) Kernels.SumsF32<V512>((float*)ptr + off, len, (float)center, ref sums[i]);
                else Kernels.SumsF32<V256>((float*)ptr + off, len, (float)center, ref sums[i]);
            }
        }
        Gang.For(chunks, maxDegreeOfParallelism, Chunk);
        GC.KeepAlive(t);
        double s1 = 0, s2 = 0;
        foreach (var s in sums) { s1 += s.S1; s2 += s.S2; }
        if (!double.IsFinite(s2)) return null;
        return new Moments(n, center + s1 / n, Math.Sqrt(Math.Max(0, (s2 - s1 * s1 / n) / (n - 1))));
    }

    internal static void Validate(in FastDraw d)
    {
        Check.Finite(d.A, "mean/low");
        Check.Finite(d.B, "std/high");
        if (d.Distribution == FastDistribution.TruncatedNormal && !(d.K > 0 && d.K <= FastDraw.MaxK))
            throw new ArgumentOutOfRangeException(nameof(d), d.K, $"Fast mode truncates the normal at ±k·std with 0 < k ≤ {FastDraw.MaxK}.");
    }

    /// <summary>
    /// Fills elements [start, start + count) of the draw's stream into <paramref name="dst"/> (which holds
    /// element <paramref name="start"/>); start must be a multiple of <see cref="ChunkElements"/>.
    /// </summary>
    internal static Moments? FillRange(IntPtr dst, long start, long count, bool wide, FastDraw draw, int maxDegreeOfParallelism, bool stats)
    {
        if (start % ChunkElements != 0) throw new ArgumentException("start must be chunk-aligned", nameof(start));
        long chunks = (count + ChunkElements - 1) / ChunkElements;
        var sums = new Kernels.Sums[chunks];
        int elementSize = wide ? 8 : 4;
        // Streaming stores need 64-byte alignment (every group then is); tensors from libtorch's allocator have it.
        bool stream = count * elementSize >= StreamingBytes && dst % 64 == 0;
        void Chunk(long i)
        {
            long off = i * ChunkElements;
            long len = Math.Min(ChunkElements, count - off);
            FillChunk(dst + (nint)(off * elementSize), start + off, len, wide, draw, stats, stream, ref sums[i]);
        }
        Gang.For(chunks, maxDegreeOfParallelism, Chunk);
        if (!stats) return null;
        double s1 = 0, s2 = 0;
        foreach (var s in sums) { s1 += s.S1; s2 += s.S2; }
        double center = wide ? draw.Center : (float)draw.Center;   // what the kernels subtracted
        double mean = center + s1 / count;
        double std = count > 1 ? Math.Sqrt(Math.Max(0, (s2 - s1 * s1 / count) / (count - 1))) : double.NaN;
        return new Moments(count, mean, std);
    }

    /// <summary>
    /// Tensors from this size on (bytes) are written with non-temporal stores: they are far larger than the
    /// caches, so streaming them out saves the read-for-ownership of every cache line (a third of the memory
    /// traffic) and leaves the caches alone. Smaller ones are written normally and stay cached.
    /// </summary>
    public const long StreamingBytes = 16L << 20;

    /// <summary>One chunk: whole groups in place, the last partial group through a small buffer.</summary>
    private static void FillChunk(IntPtr dst, long first, long count, bool wide, in FastDraw draw, bool stats, bool stream, ref Kernels.Sums sums)
    {
        int group = wide ? Kernels.GroupF64 : Kernels.GroupF32;
        long g0 = first / group, full = count / group, rest = count % group;
        bool w512 = Width == 512 && V512.IsAccelerated;
        var none = new Kernels.Sums();
        if (wide)
        {
            double* p = (double*)dst - first;                 // the address element 0 would have
            if (w512) Kernels.FillF64<V512>(p, g0, g0 + full, draw, stream, stats, ref sums);
            else Kernels.FillF64<V256>(p, g0, g0 + full, draw, stream, stats, ref sums);
            if (rest > 0)
            {
                double* tmp = stackalloc double[Kernels.GroupF64];
                long gl = g0 + full;
                if (w512) Kernels.FillF64<V512>(tmp - gl * group, gl, gl + 1, draw, false, false, ref none);
                else Kernels.FillF64<V256>(tmp - gl * group, gl, gl + 1, draw, false, false, ref none);
                double c = draw.Center;
                for (long i = 0; i < rest; i++)
                {
                    double x = tmp[i];
                    p[gl * group + i] = x;
                    if (stats) { double dv = x - c; sums.S1 += dv; sums.S2 += dv * dv; }
                }
            }
        }
        else
        {
            float* p = (float*)dst - first;
            if (w512) Kernels.FillF32<V512>(p, g0, g0 + full, draw, stream, stats, ref sums);
            else Kernels.FillF32<V256>(p, g0, g0 + full, draw, stream, stats, ref sums);
            if (rest > 0)
            {
                float* tmp = stackalloc float[Kernels.GroupF32];
                long gl = g0 + full;
                if (w512) Kernels.FillF32<V512>(tmp - gl * group, gl, gl + 1, draw, false, false, ref none);
                else Kernels.FillF32<V256>(tmp - gl * group, gl, gl + 1, draw, false, false, ref none);
                float c = (float)draw.Center;
                for (long i = 0; i < rest; i++)
                {
                    float x = tmp[i];
                    p[gl * group + i] = x;
                    if (stats) { double dv = x - c; sums.S1 += dv; sums.S2 += dv * dv; }
                }
            }
        }
        if (stream && Sse.IsSupported) Sse.StoreFence();   // streaming stores are weakly ordered
    }

    /// <summary>
    /// Fills <paramref name="local"/> with the block of a global tensor of shape <paramref name="globalShape"/> that
    /// <c>global.narrow(dim, start, local.shape[dim])</c> selects (dim −1: elements [start, start + n) of the flattened
    /// global tensor, any local shape), with the values <see cref="Fill"/> writes into the whole global tensor.
    /// Each element's value depends on its global index only, so the block is computed on its own: the local
    /// memory is a sequence of runs of consecutive global indices, filled in parallel pieces of about
    /// <see cref="ChunkElements"/> elements. Other dtypes, devices and layouts go through a CPU staging tensor.
    /// </summary>
    public static void FillShard(Tensor local, long[] globalShape, int dim, long start, in FastDraw draw, int maxDegreeOfParallelism)
    {
        Validate(draw);
        long n = local.numel();
        if (n == 0) return;
        var dtype = local.dtype;
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"Fast mode fills floating-point tensors; got {dtype}.", nameof(local));
        // The runs: `outer` runs of `run` consecutive global indices, the k-th starting at first + k·stride.
        long outer, run, first, stride;
        if (dim < 0)
        {
            outer = 1; run = n; first = start; stride = 0;
        }
        else
        {
            long inner = 1, before = 1;
            for (int i = dim + 1; i < globalShape.Length; i++) inner *= globalShape[i];
            for (int i = 0; i < dim; i++) before *= globalShape[i];
            outer = before; run = local.shape[dim] * inner; first = start * inner; stride = globalShape[dim] * inner;
        }
        using var _ = no_grad();
        bool wide = dtype == ScalarType.Float64;
        var d = draw;
        if (local.device_type == DeviceType.CPU && local.is_contiguous() && (dtype == ScalarType.Float32 || wide))
        {
            FillRuns(DataPointer(local), n, outer, run, first, stride, wide, d, maxDegreeOfParallelism);
            BumpVersion(local);
            GC.KeepAlive(local);
            return;
        }
        using var tmp = empty(local.shape, wide ? ScalarType.Float64 : ScalarType.Float32, CPU);
        FillRuns(DataPointer(tmp), n, outer, run, first, stride, wide, d, maxDegreeOfParallelism);
        local.copy_(tmp);
    }

    /// <summary>Local elements [0, n) in pieces of <see cref="ChunkElements"/>; local element k·run + j is global element first + k·stride + j.</summary>
    private static void FillRuns(IntPtr dst, long n, long outer, long run, long first, long stride, bool wide, FastDraw draw, int maxDegreeOfParallelism)
    {
        int elementSize = wide ? 8 : 4;
        bool stream = n * elementSize >= StreamingBytes;
        long pieces = (n + ChunkElements - 1) / ChunkElements;
        void Piece(long i)
        {
            long lo = i * ChunkElements, hi = Math.Min(n, lo + ChunkElements);
            while (lo < hi)
            {
                long k = lo / run, j = lo % run, len = Math.Min(run - j, hi - lo);
                FillSpan(dst + (nint)(lo * elementSize), first + k * stride + j, len, wide, draw, stream);
                lo += len;
            }
        }
        Gang.For(pieces, maxDegreeOfParallelism, Piece);
    }

    /// <summary>
    /// Global elements [first, first + count) of the draw into <paramref name="dst"/> (which holds element
    /// <paramref name="first"/>), for any first: a partial group at either end through a small buffer, the
    /// whole groups in place (streamed when asked and their addresses are 64-byte aligned).
    /// </summary>
    internal static void FillSpan(IntPtr dst, long first, long count, bool wide, in FastDraw draw, bool stream)
    {
        int group = wide ? Kernels.GroupF64 : Kernels.GroupF32;
        int size = wide ? 8 : 4;
        bool w512 = Width == 512 && V512.IsAccelerated;
        var none = new Kernels.Sums();
        long end = first + count;
        long gFull0 = (first + group - 1) / group, gFull1 = end / group;
        // Partial groups: the group holding `first` when it is not aligned, and the one holding `end` when it is not.
        Span<long> partial = stackalloc long[2];
        int np = 0;
        if (first % group != 0) partial[np++] = first / group;
        if (end % group != 0 && (np == 0 || partial[0] != end / group)) partial[np++] = end / group;
        if (gFull1 > gFull0)
        {
            IntPtr p0 = dst - (nint)(first * size);   // the address element 0 would have
            bool s = stream && (p0 + (nint)(gFull0 * group * size)) % 64 == 0;
            if (wide)
            {
                if (w512) Kernels.FillF64<V512>((double*)p0, gFull0, gFull1, draw, s, false, ref none);
                else Kernels.FillF64<V256>((double*)p0, gFull0, gFull1, draw, s, false, ref none);
            }
            else
            {
                if (w512) Kernels.FillF32<V512>((float*)p0, gFull0, gFull1, draw, s, false, ref none);
                else Kernels.FillF32<V256>((float*)p0, gFull0, gFull1, draw, s, false, ref none);
            }
            if (s && Sse.IsSupported) Sse.StoreFence();
        }
        double* tmpD = stackalloc double[Kernels.GroupF64];
        float* tmpF = stackalloc float[Kernels.GroupF32];
        for (int q = 0; q < np; q++)
        {
            long g = partial[q], lo = Math.Max(first, g * group), hi = Math.Min(end, (g + 1) * group);
            if (wide)
            {
                double* tmp = tmpD;
                if (w512) Kernels.FillF64<V512>(tmp - g * group, g, g + 1, draw, false, false, ref none);
                else Kernels.FillF64<V256>(tmp - g * group, g, g + 1, draw, false, false, ref none);
                for (long e = lo; e < hi; e++) ((double*)dst)[e - first] = tmp[e - g * group];
            }
            else
            {
                float* tmp = tmpF;
                if (w512) Kernels.FillF32<V512>(tmp - g * group, g, g + 1, draw, false, false, ref none);
                else Kernels.FillF32<V256>(tmp - g * group, g, g + 1, draw, false, false, ref none);
                for (long e = lo; e < hi; e++) ((float*)dst)[e - first] = tmp[e - g * group];
            }
        }
    }

    /// <summary>
    /// The address of a CPU tensor's first element (storage offset included), from LibTorchSharp's
    /// <c>THSTensor_data</c> (what TorchSharp's own <c>TensorAccessor</c> reads), resolved through TorchSharp's
    /// assembly so its native-library resolution applies.
    /// </summary>
    /// <summary>The address of any tensor's first element on its device (a CUDA tensor's device address), or zero for meta tensors.</summary>
    internal static IntPtr AnyDataPointer(Tensor t) => t.device_type == DeviceType.META ? IntPtr.Zero : Native.TensorData(t.Handle);

    internal static IntPtr DataPointer(Tensor t)
    {
        if (t.device_type != DeviceType.CPU) throw new ArgumentException("not a CPU tensor", nameof(t));
        var p = Native.TensorData(t.Handle);
        if (p == IntPtr.Zero) throw new InvalidOperationException("The tensor has no data pointer.");
        return p;
    }

    /// <summary>
    /// An in-place no-op on an empty view bumps the version counter shared with the tensor, as libtorch's
    /// own in-place fills do, so autograd notices the write.
    /// </summary>
    internal static void BumpVersion(Tensor t)
    {
        using var flat = t.view(-1);
        using var none = flat.narrow(0, 0, 0);
        var same = none.zero_();   // TorchSharp returns a second wrapper of the same tensor: dispose it
        if (!ReferenceEquals(same, none)) same.Dispose();
    }

    private static class Native
    {
        private static readonly delegate* unmanaged<IntPtr, IntPtr> Data = Resolve();

        public static IntPtr TensorData(IntPtr handle) => Data(handle);

        private static delegate* unmanaged<IntPtr, IntPtr> Resolve()
        {
            var lib = NativeLibrary.Load("LibTorchSharp", typeof(torch).Assembly, null);
            return (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(lib, "THSTensor_data");
        }
    }
}
