using System.Runtime.InteropServices;

namespace TorchInit;

/// <summary>
/// The C library's <c>erf</c>, <c>log</c> and <c>sincos</c>, bound once: the functions CPython's <c>math.erf</c> and libtorch's
/// scalar kernels call, so results computed here are bit-identical to theirs. Where no C math library can be loaded
/// (Windows), each falls back to .NET: a managed erf (<see cref="ExactSampling.ManagedErf"/>), Math.Log, Math.Sin and Math.Cos.
/// </summary>
internal static unsafe class LibM
{
    private static readonly delegate* unmanaged[SuppressGCTransition]<double, double> ErfFn;
    private static readonly delegate* unmanaged[SuppressGCTransition]<double, double> LogFn;
    private static readonly delegate* unmanaged[SuppressGCTransition]<double, double*, double*, void> SinCosFn;

    static LibM()
    {
        if (OperatingSystem.IsWindows()) return;
        foreach (var name in new[] { "libm.so.6", "libm" })
        {
            if (!NativeLibrary.TryLoad(name, out var lib)) continue;
            if (NativeLibrary.TryGetExport(lib, "erf", out var erf) && NativeLibrary.TryGetExport(lib, "log", out var log)
                && NativeLibrary.TryGetExport(lib, "sincos", out var sincos))
            {
                ErfFn = (delegate* unmanaged[SuppressGCTransition]<double, double>)erf;
                LogFn = (delegate* unmanaged[SuppressGCTransition]<double, double>)log;
                SinCosFn = (delegate* unmanaged[SuppressGCTransition]<double, double*, double*, void>)sincos;
                return;
            }
        }
    }

    /// <summary>erf(x) = 2/√π ∫₀ˣ e^(−t²) dt.</summary>
    public static double Erf(double x) => ErfFn != null ? ErfFn(x) : ExactSampling.ManagedErf(x);

    /// <summary>ln x.</summary>
    public static double Log(double x) => LogFn != null ? LogFn(x) : Math.Log(x);

    /// <summary>(sin x, cos x), from one <c>sincos</c> call.</summary>
    public static void SinCos(double x, out double sin, out double cos)
    {
        if (SinCosFn != null)
        {
            double s, c;
            SinCosFn(x, &s, &c);
            sin = s;
            cos = c;
        }
        else
        {
            sin = Math.Sin(x);
            cos = Math.Cos(x);
        }
    }
}
