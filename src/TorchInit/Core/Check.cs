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

    public static string Shape(ReadOnlySpan<long> shape) => $"[{string.Join(", ", shape.ToArray())}]";
}
