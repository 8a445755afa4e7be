using System.Diagnostics;
using TorchInit.Exact;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// A calibration that fails (another libtorch build, a CPU without the kernel's instructions, a broken port) turns its parallel
/// exact path off: the draws stay libtorch's own and correct, and the fallback is visible, in
/// <see cref="TorchRuntime.ExactParallelFallbacks"/> and once as a trace warning, instead of a silent loss of every core.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class ExactCalibrationTests
{
    /// <summary>Records the trace events written while it is registered.</summary>
    private sealed class Recorder : TraceListener
    {
        public readonly List<(TraceEventType Type, string Message)> Events = [];
        public override void TraceEvent(TraceEventCache? eventCache, string source, TraceEventType eventType, int id, string? message)
        {
            lock (Events) Events.Add((eventType, message ?? ""));
        }
        public override void TraceEvent(TraceEventCache? eventCache, string source, TraceEventType eventType, int id, string? format, params object?[]? args) =>
            TraceEvent(eventCache, source, eventType, id, args is null ? format : string.Format(System.Globalization.CultureInfo.InvariantCulture, format ?? "", args));
        public override void Write(string? message) { }
        public override void WriteLine(string? message) { }
        public List<string> TorchInitWarnings()
        {
            lock (Events) return Events.Where(e => e.Type == TraceEventType.Warning && e.Message.StartsWith("TorchInit: ", StringComparison.Ordinal)).Select(e => e.Message).ToList();
        }
    }

    private static byte[] Bytes(Tensor t) => ExactParallelTests.Bytes(t);

    [Fact]
    public void A_forced_calibration_failure_is_reported_once_and_the_draws_stay_libtorchs() => Bounded.Run(() =>
    {
        using var scope = NewDisposeScope();
        var recorder = new Recorder();
        Trace.Listeners.Add(recorder);
        ExactCalibration.TamperReference = t => t.add_(1);   // libtorch's reference draw no port can match
        ExactCalibration.Recalibrate();
        try
        {
            Assert.Empty(recorder.TorchInitWarnings());   // calibration runs at the first draw that would take a path, not before

            // Seeded draws large enough for the parallel paths: the calibrations run now and fail; the weights are libtorch's own.
            foreach (var (scheme, dtype) in new[] { (InitScheme.HeNormal, ScalarType.Float32), (InitScheme.HeNormal, ScalarType.Float64), (InitScheme.TorchDefault, ScalarType.Float32) })
            {
                var options = new InitOptions { Seed = 4 };
                var viaPaths = nn.Linear(300, 700).to(dtype);
                var libtorch = nn.Linear(300, 700).to(dtype);
                viaPaths.ApplyInit(scheme, options);
                ExactSampling.ParallelExact = false;
                try { libtorch.ApplyInit(scheme, options); }
                finally { ExactSampling.ParallelExact = true; }
                Assert.Equal(Bytes(libtorch.weight!), Bytes(viaPaths.weight!));
                Assert.Equal(Bytes(libtorch.bias!), Bytes(viaPaths.bias!));
            }
            using (var g = new Generator(1))
            {
                Assert.False(ParallelUniform.TryUniform(empty(1 << 16), -1, 1, g, 2));
                Assert.False(ParallelNormal.TryNormal(empty(1 << 16), 0, 1, g, 2));
                Assert.False(ParallelNormal.TryNormal(empty(1 << 16, ScalarType.Float64), 0, 1, g, 2));
            }

            var fallbacks = TorchRuntime.ExactParallelFallbacks;
            Assert.Equal(3, fallbacks.Count);
            Assert.Contains(fallbacks, f => f.StartsWith("exact uniform_ on every core is off", StringComparison.Ordinal));
            Assert.Contains(fallbacks, f => f.StartsWith("exact float32 normal_ on every core is off", StringComparison.Ordinal));
            Assert.Contains(fallbacks, f => f.StartsWith("exact float64 normal_ on every core is off", StringComparison.Ordinal));
            Assert.All(fallbacks, f => Assert.Contains("libtorch's own call", f));

            // Said once per path: more draws and more reads add nothing.
            var warnings = recorder.TorchInitWarnings();
            Assert.Equal(fallbacks.Select(f => "TorchInit: " + f).OrderBy(w => w, StringComparer.Ordinal), warnings.OrderBy(w => w, StringComparer.Ordinal));
            nn.Linear(300, 700).ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 5 });
            nn.Linear(300, 700).ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 5 });
            Assert.Equal(3, TorchRuntime.ExactParallelFallbacks.Count);
            Assert.Equal(3, recorder.TorchInitWarnings().Count);
        }
        finally
        {
            ExactCalibration.TamperReference = null;
            ExactCalibration.Recalibrate();
            Trace.Listeners.Remove(recorder);
        }

        // Calibrated again without the tamper: on here (libtorch's AVX2 kernel on an AVX2 + FMA Linux CPU), nothing to say.
        var recorder2 = new Recorder();
        Trace.Listeners.Add(recorder2);
        try
        {
            var after = TorchRuntime.ExactParallelFallbacks;
            if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported && OperatingSystem.IsLinux())
            {
                Assert.Empty(after);
                Assert.Empty(recorder2.TorchInitWarnings());
            }
            Assert.Equal(after.Count, recorder2.TorchInitWarnings().Count);
        }
        finally { Trace.Listeners.Remove(recorder2); }
    });
}
