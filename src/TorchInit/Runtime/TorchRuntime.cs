using TorchSharp;

namespace TorchInit;

/// <summary>Thrown when TorchSharp's native library cannot be loaded; the message says which symbol or package is missing and how to fix it.</summary>
public sealed class TorchNativeLoadException : Exception
{
    internal TorchNativeLoadException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>Checks that TorchSharp's native runtime loads, and explains why when it does not.</summary>
public static class TorchRuntime
{
    /// <summary>The libstdc++ symbol version TorchSharp 0.107's <c>libLibTorchSharp.so</c> needs (GCC 13+).</summary>
    public const string RequiredGlibcxx = "GLIBCXX_3.4.32";

    /// <summary>
    /// The parallel bit-identical exact draws that are off in this process, one line each saying which and why; empty when
    /// every one is on. <see cref="DrawEngine.Exact"/> draws a seeded (or explicit CPU generator's) contiguous float32/float64
    /// <c>uniform_</c> or <c>normal_</c> on every core with libtorch's own bits, but only where a calibration found its port
    /// giving exactly libtorch's bits on a few thousand draws: on another libtorch build, a CPU without AVX2 and FMA (float32
    /// <c>normal_</c>), or a broken port, that path is off and its draws are libtorch's own call, the same values on one core.
    /// </summary>
    /// <remarks>
    /// Reading this runs the calibrations not yet run (a few thousand draws on private generators; the global generator is
    /// untouched). A path found off is also said once, when its calibration runs (at the first draw that would take it), as
    /// a <see cref="System.Diagnostics.Trace.TraceWarning(string)"/> starting "TorchInit: "; add a trace listener to see it
    /// (<c>System.Diagnostics.Trace.Listeners.Add(new ConsoleTraceListener(useErrorStream: true))</c>). Nothing is written
    /// to the console otherwise.
    /// </remarks>
    public static IReadOnlyList<string> ExactParallelFallbacks => Exact.ExactCalibration.Fallbacks();

    /// <summary>
    /// Loads TorchSharp's native CPU runtime. Call it at start-up: instead of a bare
    /// <see cref="TypeInitializationException"/> you get a <see cref="TorchNativeLoadException"/> that names the
    /// missing C++ runtime symbol or backend package and the fix.
    /// </summary>
    /// <exception cref="TorchNativeLoadException">The native library could not be loaded.</exception>
    public static void EnsureLoaded()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (IsNativeLoadFailure(e))
        {
            throw Explain(e);
        }
    }

    /// <summary>
    /// Loads TorchSharp's native runtime for <paramref name="device"/> ("cpu", "cuda" or "cuda:N"): the CPU runtime
    /// first (as <see cref="EnsureLoaded()"/>), then for CUDA the CUDA backend, and checks that the device exists. Each
    /// failure is one <see cref="TorchNativeLoadException"/> whose message is one line that names the device as asked,
    /// the cause (no CUDA backend package, no GPU or driver, no such device index) and the fix.
    /// </summary>
    /// <exception cref="ArgumentException">Not a device name.</exception>
    /// <exception cref="TorchNativeLoadException">The native runtime or the device is not available.</exception>
    public static void EnsureLoaded(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var name = device.Trim().ToLowerInvariant();
        int index = 0;
        bool isCuda = name == "cuda" || (name.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index));
        if (name != "cpu" && !isCuda)
            throw new ArgumentException($"Unknown device '{device}': use cpu, cuda or cuda:N.", nameof(device));
        EnsureLoaded();
        if (!isCuda) return;
        const string fix = "Reference TorchSharp-cuda-linux (the same version as TorchSharp) instead of TorchSharp-cpu, on a machine with an NVIDIA GPU and driver, or use the cpu device.";
        try
        {
            torch.InitializeDeviceType(DeviceType.CUDA);
        }
        catch (Exception e)
        {
            var said = FirstLine(e.Message);
            int trace = said.IndexOf(" Trace from", StringComparison.Ordinal);
            throw new TorchNativeLoadException(OneLine($"Device '{device}' was asked for, but TorchSharp's CUDA backend could not be loaded. {fix} (TorchSharp said: {(trace > 0 ? said[..trace] : said)})"), e);
        }
        if (!torch.cuda.is_available())
            throw new TorchNativeLoadException(OneLine($"Device '{device}' was asked for, but CUDA is not available to TorchSharp (torch.cuda.is_available() is false: no CUDA backend, GPU or driver). {fix}"), null);
        int count = torch.cuda.device_count();
        if (index >= count)
            throw new TorchNativeLoadException($"Device '{device}' was asked for, but CUDA has {count} device(s) here (cuda:0 to cuda:{count - 1}).", null);
    }

    private static string OneLine(string s) => string.Join(' ', s.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>Whether <paramref name="e"/> (or an inner exception) is TorchSharp's native load failure.</summary>
    public static bool IsNativeLoadFailure(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is DllNotFoundException || x.Message.Contains("Failed to load native component", StringComparison.OrdinalIgnoreCase)
                || x.Message.Contains("libLibTorchSharp", StringComparison.Ordinal))
                return true;
        return false;
    }

    /// <summary>
    /// Builds the actionable exception for a native load failure. TorchSharp's own message blames a missing
    /// backend package even when the C++ runtime is the cause, so this loads <c>libLibTorchSharp.so</c> itself
    /// to get the dynamic loader's error (which names the missing symbol) and inspects the libstdc++ the
    /// process actually uses.
    /// </summary>
    public static TorchNativeLoadException Explain(Exception e)
    {
        var (libTorchSharp, loaderError) = ProbeLibTorchSharp();
        var lib = LoadedLibStdCxx() ?? FindLibStdCxx();
        bool? hasSymbol = lib is null ? null : FileContains(lib, RequiredGlibcxx);
        bool runtimeTooOld = hasSymbol == false || loaderError?.Contains("GLIBCXX_", StringComparison.Ordinal) == true;
        string cause = runtimeTooOld
            ? $"TorchSharp 0.107's libLibTorchSharp.so needs a C++ runtime that provides {RequiredGlibcxx} (libstdc++ from GCC 13+), " +
              $"and this process's {lib ?? "libstdc++"} does not (Debian 12 ships GCC 12, whose libstdc++ stops at GLIBCXX_3.4.30). " +
              "Fix: on Debian 12 run `bash scripts/prereqs.sh` from the TorchInit repository (installs libstdc++6 from Debian 13 " +
              "\"trixie\", apt-pinned to it and its dependencies), or install libstdc++6 from GCC 13+ with your package manager."
            : libTorchSharp is null
                ? "No libLibTorchSharp native library was found beside TorchSharp.dll: reference a backend package, TorchSharp-cpu " +
                  "(or TorchSharp-cuda-linux / TorchSharp-cuda-windows), with the same version as TorchSharp."
                : $"The C++ runtime {lib ?? "(not found)"} provides {RequiredGlibcxx}; see the loader's error below. A missing or " +
                  "mismatched backend package (TorchSharp-cpu / TorchSharp-cuda-linux, same version as TorchSharp) is the usual cause.";
        var loader = loaderError is null ? "" : $" Loader: {loaderError.Trim()}";
        var torchSharp = FirstLine(e.InnerException?.Message ?? e.Message);
        return new TorchNativeLoadException($"TorchSharp's native library could not be loaded. {cause}{loader} (TorchSharp said: {torchSharp})", e);
    }

    private static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";

    /// <summary>Loads libLibTorchSharp.so from where TorchSharp looks for it; returns its path and the loader's error, if any.</summary>
    private static (string? Path, string? Error) ProbeLibTorchSharp()
    {
        if (!OperatingSystem.IsLinux()) return (null, null);
        var dir = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? "";
        string[] candidates =
        [
            Path.Combine(dir, "libLibTorchSharp.so"), Path.Combine(dir, "cpu", "libLibTorchSharp.so"),
            Path.Combine(dir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
        ];
        var path = candidates.FirstOrDefault(File.Exists);
        if (path is null) return (null, null);
        try
        {
            System.Runtime.InteropServices.NativeLibrary.Free(System.Runtime.InteropServices.NativeLibrary.Load(path));
            return (path, null);
        }
        catch (DllNotFoundException x)
        {
            return (path, x.Message);
        }
    }

    /// <summary>The libstdc++ mapped into this process (the one native libraries will bind to), from /proc/self/maps.</summary>
    private static string? LoadedLibStdCxx()
    {
        try
        {
            return File.ReadLines("/proc/self/maps")
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault())
                .FirstOrDefault(p => p is not null && p.StartsWith('/') && Path.GetFileName(p).StartsWith("libstdc++.so", StringComparison.Ordinal));
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static string? FindLibStdCxx()
    {
        string[] candidates =
        [
            "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        ];
        return OperatingSystem.IsLinux() ? candidates.FirstOrDefault(File.Exists) : null;
    }

    internal static bool FileContains(string path, string ascii)
    {
        var needle = System.Text.Encoding.ASCII.GetBytes(ascii);
        var bytes = File.ReadAllBytes(path);
        return bytes.AsSpan().IndexOf(needle) >= 0;
    }
}
