using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>Run-time device selection for the trainers.</summary>
public static class Devices
{
    /// <summary>
    /// The device named <paramref name="name"/> ("cpu", "cuda" or "cuda:N").
    /// </summary>
    /// <exception cref="ArgumentException">Not a device name.</exception>
    /// <exception cref="TorchNativeLoadException">CUDA was asked for but is not available; the one-line message says why and what to do.</exception>
    public static Device Select(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            // One line that names the device as asked, the cause and the fix (TorchNativeLoadException) when the CUDA
            // backend, the GPU or the device index is missing.
            TorchRuntime.EnsureLoaded(name.Trim());
            return new Device(n);
        }
        throw new ArgumentException($"Unknown device '{name}'. Use cpu or cuda (cuda:N).");
    }
}

/// <summary>The floating-point types the experiments run in.</summary>
public static class Dtypes
{
    /// <summary>"float32" or "float64".</summary>
    /// <exception cref="ArgumentException">Anything else.</exception>
    public static ScalarType Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "float32" or "float" => ScalarType.Float32,
        "float64" or "double" => ScalarType.Float64,
        _ => throw new ArgumentException($"Unknown dtype '{name}'. Use float32 or float64."),
    };
}
