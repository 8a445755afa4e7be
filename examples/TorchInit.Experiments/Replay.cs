using TorchSharp;

namespace TorchInit.Experiments;

/// <summary>Runs the TorchSharp side of a twin experiment with the configuration stored in a reference document.</summary>
public static class Replay
{
    /// <summary>Total SGD steps the replay of <paramref name="reference"/> takes (for progress bars).</summary>
    public static int TotalSteps(TwinDocument reference) => reference.Experiment switch
    {
        "depth-sweep" => reference.ConfigAs<DepthSweepConfig>() is var c ? c.ActivationList.Length * c.SchemeList.Length * c.Steps : 0,
        "he2015" => reference.ConfigAs<He2015Config>() is var h ? h.SchemeList.Length * h.Steps : 0,
        "mnist" => reference.ConfigAs<MnistConfig>() is var m ? m.ModelList.Length * m.SchemeList.Length * MnistTraining.StepsPerRun(m) : 0,
        "lsuv" => reference.ConfigAs<LsuvConfig>() is var l ? l.NetList.Length * l.SchemeList.Length * l.Steps : 0,
        var e => throw new InvalidDataException($"Unknown experiment '{e}'."),
    };

    /// <summary>
    /// The TorchSharp document for <paramref name="reference"/>'s experiment and configuration.
    /// <paramref name="mnistData"/> is the MNIST dataset root (<see cref="MnistFiles.Ensure"/>; only the mnist experiment needs it).
    /// </summary>
    public static TwinDocument Run(TwinDocument reference, torch.Device device, string? mnistData = null, Action<string, int, int>? onStep = null) =>
        reference.Experiment switch
        {
            "depth-sweep" => DepthSweep.Run(reference.ConfigAs<DepthSweepConfig>(), device, onStep),
            "he2015" => He2015.Run(reference.ConfigAs<He2015Config>(), device, onStep),
            "lsuv" => LsuvExperiment.Run(reference.ConfigAs<LsuvConfig>(), device, onStep),
            "mnist" => MnistTraining.Run(reference.ConfigAs<MnistConfig>(),
                MnistFiles.Ensure(mnistData ?? Path.Combine("data", "mnist")), device, onStep),
            var e => throw new InvalidDataException($"Unknown experiment '{e}'."),
        };
}
