using System.Diagnostics;
using static TorchSharp.torch;

namespace TorchInit.Exact;

/// <summary>
/// What the calibrations of the parallel exact paths found (<see cref="ParallelUniform"/>, <see cref="ParallelNormal"/>): each
/// path is on only where its port gave libtorch's own bits on a few thousand draws. A path found off is said once, when its
/// calibration runs (at the first draw that would take it), as a <see cref="Trace.TraceWarning(string)"/>, and is listed by
/// <see cref="TorchRuntime.ExactParallelFallbacks"/>; its draws are libtorch's own call (the same values, on one core).
/// </summary>
internal static class ExactCalibration
{
    /// <summary>
    /// Test hook: applied (under no_grad) to libtorch's own draw that each calibration compares its port with; null in use.
    /// Setting it and calling <see cref="Recalibrate"/> makes the next calibrations see a port that does not match, as a broken
    /// kernel or another libtorch build would.
    /// </summary>
    internal static Action<Tensor>? TamperReference { get; set; }

    /// <summary>Applies <see cref="TamperReference"/> to a calibration's reference draw.</summary>
    internal static void Tamper(Tensor reference)
    {
        if (TamperReference is not { } tamper) return;
        using var _ = no_grad();
        tamper(reference);
    }

    /// <summary>Says once, for the calibration that just found it, that a path is off and why.</summary>
    internal static void Off(string why) => Trace.TraceWarning("TorchInit: " + why);

    /// <summary>The paths that are off, one line each (running the calibrations not yet run); empty when every one is on.</summary>
    internal static IReadOnlyList<string> Fallbacks() =>
        new[] { ParallelUniform.Off, ParallelNormal.FloatOff, ParallelNormal.DoubleOff }.OfType<string>().ToArray();

    /// <summary>Forgets every calibration, so the next draw (or <see cref="Fallbacks"/>) runs them again (tests).</summary>
    internal static void Recalibrate()
    {
        ParallelUniform.Recalibrate();
        ParallelNormal.Recalibrate();
    }
}
