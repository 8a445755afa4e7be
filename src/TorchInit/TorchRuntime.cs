using TorchSharp;

namespace TorchInit;

/// <summary>Thrown when TorchSharp's native library cannot be loaded; the message says which symbol or package is missing and how to fix it.</summary>
public sealed class TorchNativeLoadException : Exception
{
    internal TorchNativeLoadException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Checks that TorchSharp's native runtime loads, and explains why when it does not.</summary>
public static class TorchRuntime
{
    /// <summary>The libstdc++ symbol version TorchSharp 0.107's <c>libLibTorchSharp.so</c> needs (GCC 13+).</summary>
    public const string RequiredGlibcxx = "GLIBCXX_3.4.32";

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

    /// <summary>Whether <paramref name="e"/> (or an inner exception) is TorchSharp's native load failure.</summary>
    public static bool IsNativeLoadFailure(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is DllNotFoundException || x.Message.Contains("Failed to load native component", StringComparison.OrdinalIgnoreCase)
                || x.Message.Contains("libLibTorchSharp", StringComparison.Ordinal))
                return true;
        return false;
    }

    /// <summary>Builds the actionable exception for a native load failure, inspecting this machine's libstdc++.</summary>
    public static TorchNativeLoadException Explain(Exception e)
    {
        var lib = FindLibStdCxx();
        bool? hasSymbol = lib is null ? null : FileContains(lib, RequiredGlibcxx);
        string runtime = (lib, hasSymbol) switch
        {
            (null, _) => $"No libstdc++.so.6 was found; TorchSharp 0.107 needs one that provides {RequiredGlibcxx} (GCC 13 or newer).",
            (_, false) => $"This machine's C++ runtime {lib} lacks {RequiredGlibcxx}, which TorchSharp 0.107's libLibTorchSharp.so needs " +
                          "(it comes with GCC 13+; Debian 12 ships GCC 12, whose libstdc++ stops at GLIBCXX_3.4.30). " +
                          "Fix: on Debian 12 run `bash scripts/prereqs.sh` from the TorchInit repository (installs libstdc++6 from Debian 13 " +
                          "\"trixie\", apt-pinned to it and its dependencies), or install libstdc++6 from GCC 13+ with your package manager.",
            _ => $"This machine's C++ runtime {lib} provides {RequiredGlibcxx}, so the usual cause is a missing backend package: " +
                 "reference TorchSharp-cpu (or TorchSharp-cuda-linux / TorchSharp-cuda-windows) with the same version as TorchSharp.",
        };
        var detail = e.InnerException?.Message ?? e.Message;
        return new TorchNativeLoadException($"TorchSharp's native library could not be loaded. {runtime} (TorchSharp said: {detail.Trim()})", e);
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
