using System.Collections;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Whether a fill can be written to a tensor, checked for the whole plan before anything is written: the tensor is
/// alive, has storage, has a dtype the fill can hold, and no two of its elements share memory. One wording for every entry point.
/// </summary>
internal static class TensorCheck
{
    /// <summary>The dtypes random fills write: float16, bfloat16, float32, float64.</summary>
    public static bool IsFloating(ScalarType t) => t is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;

    /// <summary>The largest finite value of a floating dtype (float16 65504, bfloat16 ≈ 3.39e38, float32 ≈ 3.40e38), or null for another dtype.</summary>
    public static double? MaxFinite(ScalarType t) => t switch
    {
        ScalarType.Float16 => 65504.0,
        ScalarType.BFloat16 => 3.3895313892515355e38,
        ScalarType.Float32 => float.MaxValue,
        ScalarType.Float64 => double.MaxValue,
        _ => null,
    };

    /// <summary>
    /// Why the numbers a fill hands libtorch as scalars cannot be written to <paramref name="t"/>'s floating dtype (one lies outside
    /// its finite range: libtorch would throw, part-way through a fill done in several steps), or null.
    /// </summary>
    public static string? OutOfRange(Tensor t, string fill, params (string Name, double Value)[] scalars)
    {
        if (MaxFinite(t.dtype) is not double max) return null;
        foreach (var (name, value) in scalars)
            if (Math.Abs(value) > max)
                return $"{fill}'s {name} {value:G6} is outside {t.dtype}'s range (±{max:G6}); use a wider dtype or a smaller scale";
        return null;
    }

    /// <summary>Throws the exception a write of <paramref name="fill"/> to <paramref name="t"/> would end in, before anything is written.</summary>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    /// <exception cref="InvalidOperationException">The tensor is on the meta device (no storage).</exception>
    /// <exception cref="ArgumentException">The dtype or shape does not fit the fill, or elements of the tensor share memory.</exception>
    public static void EnsureWritable(Tensor t, Fill fill, string name)
    {
        EnsureAlive(t, name);
        if (t.device_type == DeviceType.META)
            throw new InvalidOperationException(
                $"Parameter '{name}' {Check.Shape(t.shape)} is on the meta device and has no storage to initialize. Give it storage first: " +
                "construct the layers on a real device (e.g. nn.Linear(in, out, device: torch.CPU)), or let Build.WithoutDefaultInit(() => new MyModel(), scheme) " +
                "construct the model on the meta device, allocate each parameter once and initialize it.");
        EnsureFits(t, fill, name);
    }

    /// <summary>The checks that hold on the meta device too (a dry run makes them): dtype, shape and memory layout.</summary>
    public static void EnsureFits(Tensor t, Fill fill, string name)
    {
        EnsureAlive(t, name);
        var dtype = t.dtype;
        if (t.is_complex())
            throw new ArgumentException(
                $"Parameter '{name}' {Check.Shape(t.shape)} is {dtype}: TorchInit initializes real tensors only " +
                "(initialize the real and imaginary parts as real views with torch.view_as_real).", name);
        if (fill.Draws && !IsFloating(dtype))
            throw new ArgumentException(
                $"Parameter '{name}' {Check.Shape(t.shape)} is {dtype}: a {fill.Distribution} fill needs a floating-point tensor (float16, bfloat16, float32 or float64).", name);
        if (Overlap(t) is { } overlap)
            throw new ArgumentException(
                $"Parameter '{name}' {Check.Shape(t.shape)} with strides {Check.Shape(t.stride())}: {overlap}, so its elements overlap in memory " +
                "and cannot be given values of their own (an expanded or otherwise overlapping view). Initialize the tensor it views, or give the " +
                "parameter storage of its own (e.g. new Parameter(view.contiguous())).", name);
        if (fill.Problem(t) is { } problem)
            throw new ArgumentException($"Parameter '{name}': {problem}.", name);
    }

    public static void EnsureAlive(Tensor t, string name)
    {
        if (t.IsInvalid) throw new ObjectDisposedException(name, $"Parameter '{name}' was disposed.");
    }

    /// <summary>The checks of a torch-named function's arguments before anything else: the tensor given and alive, the generator alive.</summary>
    public static void EnsureAlive(Tensor? tensor, Generator? generator)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.IsInvalid) throw new ObjectDisposedException(nameof(tensor), "The tensor was disposed.");
        Check.Alive(generator, nameof(generator));
    }

    /// <summary>Elements above which an overlap the stride test cannot rule out is not searched element by element (libtorch then writes as it does).</summary>
    internal const long MaxOverlapSearch = 1L << 24;

    /// <summary>
    /// Why two elements of <paramref name="t"/> share memory, or null when none do (or when that cannot be decided cheaply). A
    /// dimension of size &gt; 1 with stride 0 (an expanded view) always overlaps; otherwise the dimensions sorted by stride must each
    /// step past everything the smaller ones reach (true of every contiguous tensor, transpose, permutation, slice and narrow), and
    /// a layout that fails that test is searched element by element when it is small enough.
    /// </summary>
    internal static string? Overlap(Tensor t)
    {
        long n = t.numel();
        if (n < 2 || t.is_contiguous()) return null;
        var shape = t.shape;
        var strides = t.stride();
        var dims = new List<int>();
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] < 2) continue;
            if (strides[d] == 0) return $"dimension {d} (size {shape[d]}) has stride 0";
            if (strides[d] < 0) return null; // not a layout libtorch makes; leave it to libtorch
            dims.Add(d);
        }
        dims.Sort((x, y) => strides[x].CompareTo(strides[y]));
        long reach = 0;
        bool separated = true;
        foreach (int d in dims)
        {
            if (strides[d] <= reach) { separated = false; break; }
            reach += (shape[d] - 1) * strides[d];
        }
        if (separated) return null;

        // Every element's offset, marked in a bit set over the span the tensor covers.
        long span = 1;
        foreach (int d in dims) span += (shape[d] - 1) * strides[d];
        if (n > MaxOverlapSearch || span > 8 * MaxOverlapSearch) return null;
        var seen = new BitArray(checked((int)span));
        var index = new long[dims.Count];
        long offset = 0;
        for (long k = 0; k < n; k++)
        {
            if (seen[(int)offset]) return $"two elements are at offset {offset} of its storage";
            seen[(int)offset] = true;
            for (int j = 0; j < dims.Count; j++)
            {
                int d = dims[j];
                if (++index[j] < shape[d]) { offset += strides[d]; break; }
                offset -= (shape[d] - 1) * strides[d];
                index[j] = 0;
            }
        }
        return null;
    }
}
