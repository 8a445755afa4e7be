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
    /// <exception cref="InvalidOperationException">CUDA was asked for but is not available; the message says why and what to do.</exception>
    public static Device Select(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new InvalidOperationException(
                    "--device cuda: CUDA is not available to TorchSharp here. This build uses the native backend " +
                    "'TorchSharp-cpu' unless it was built with -p:TorchBackend=cuda (which references TorchSharp-cuda-linux); " +
                    "it also needs an NVIDIA GPU and driver. Use --device cpu, or rebuild with: " +
                    "dotnet run --project examples/TorchInit.Trainers -c Release -p:TorchBackend=cuda -- <command> --device cuda");
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
