using static TorchSharp.torch;

namespace TorchInit;

/// <summary>Argument checks shared by the public entry points: one wording for each kind of bad number.</summary>
internal static class Check
{
    public static void Finite(double v, string name)
    {
        if (!double.IsFinite(v)) throw new ArgumentException($"{name} must be a finite number, got {v}.", name);
    }

    public static void FiniteNonNegative(double v, string name)
    {
        if (!double.IsFinite(v) || v < 0) throw new ArgumentException($"{name} must be a finite, non-negative number, got {v}.", name);
    }

    public static void FinitePositive(double v, string name)
    {
        if (!double.IsFinite(v) || v <= 0) throw new ArgumentException($"{name} must be a positive finite number, got {v}.", name);
    }

    /// <summary>
    /// The std of a normal or truncated normal (<paramref name="what"/>, e.g. "Normal(mean, std)"): finite and positive. A std of 0 is
    /// every weight equal to the mean, a constant, and almost always the arguments in the wrong order, so it is refused with the way
    /// to say a constant.
    /// </summary>
    public static void NormalStd(double std, double mean, string what, string name = "std")
    {
        if (std == 0)
            throw new ArgumentException(
                $"{what} with std 0 writes {SchemeText.Number(mean)} into every element: that is a constant, InitScheme.Constant({SchemeText.Number(mean)}) " +
                $"(Init.Constant(tensor, {SchemeText.Number(mean)}) on a tensor). The arguments are (mean, std), in PyTorch's order; " +
                "one argument is the std (InitScheme.Normal(0.02) is N(0, 0.02²)).", name);
        FinitePositive(std, name);
    }

    /// <summary><paramref name="value"/> when it is a defined value of its enum; an <see cref="ArgumentOutOfRangeException"/> naming <paramref name="name"/> and the value otherwise.</summary>
    public static T Defined<T>(T value, string name, string? display = null) where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
            throw new ArgumentOutOfRangeException(name, value,
                $"{display ?? name} = {Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)} is not a {typeof(T).Name} value; " +
                $"the values are {string.Join(", ", Enum.GetNames<T>())}.");
        return value;
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> for a disposed generator: TorchSharp would draw from the global generator instead.</summary>
    public static void Alive(Generator? generator, string name)
    {
        if (generator is not null && generator.Handle == IntPtr.Zero)
            throw new ObjectDisposedException(name,
                $"The generator passed as {name} was disposed; TorchSharp would silently draw from the global generator instead. Pass a live generator, a Seed, or none.");
    }

    public static string Shape(ReadOnlySpan<long> shape) => $"[{string.Join(", ", shape.ToArray())}]";
}
