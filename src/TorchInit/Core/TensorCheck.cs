using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Whether a fill can be written to a tensor, checked for the whole plan before anything is written: the tensor is
/// alive, has storage, and has a dtype the fill can hold. One wording for every entry point.
/// </summary>
internal static class TensorCheck
{
    /// <summary>The dtypes random fills write: float16, bfloat16, float32, float64.</summary>
    public static bool IsFloating(ScalarType t) => t is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;

    /// <summary>Throws the exception a write of <paramref name="fill"/> to <paramref name="t"/> would end in, before anything is written.</summary>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    /// <exception cref="InvalidOperationException">The tensor is on the meta device (no storage).</exception>
    /// <exception cref="ArgumentException">The dtype or shape does not fit the fill.</exception>
    public static void EnsureWritable(Tensor t, Fill fill, string name)
    {
        EnsureAlive(t, name);
        if (t.device_type == DeviceType.META)
            throw new InvalidOperationException(
                $"Parameter '{name}' {Check.Shape(t.shape)} is on the meta device and has no storage to initialize. " +
                "Materialize the model first (e.g. module.to_empty(device)), then call ApplyInit.");
        EnsureFits(t, fill, name);
    }

    /// <summary>The checks that hold on the meta device too (a dry run makes them): dtype and shape.</summary>
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
        if (fill.Problem(t) is { } problem)
            throw new ArgumentException($"Parameter '{name}': {problem}.", name);
    }

    public static void EnsureAlive(Tensor t, string name)
    {
        if (t.IsInvalid) throw new ObjectDisposedException(name, $"Parameter '{name}' was disposed.");
    }
}
