using TorchSharp;

namespace TorchInit.Experiments;

/// <summary>Sizes and settings of the LSUV experiment; the JSON "config" of its twin documents.</summary>
/// <param name="Width">Units per hidden layer; also the input dimension.</param>
/// <param name="Classes">Output classes.</param>
/// <param name="Batch">Rows per batch (LSUV rescales on the first one).</param>
/// <param name="Steps">SGD steps per run.</param>
/// <param name="Lr">SGD learning rate.</param>
/// <param name="Seed">Weight seed; the data uses seed + 1.</param>
/// <param name="Nets">Deep plain nets as activation:depth ("relu:30" is He et al.'s 30-layer ReLU net).</param>
/// <param name="Schemes">Schemes to compare: "glorot", "he", "lsuv".</param>
/// <param name="Dtype">"float32" (default) or "float64".</param>
public sealed record LsuvConfig(
    int Width = 128, int Classes = 10, int Batch = 64, int Steps = 200, double Lr = 0.01, long Seed = 0,
    string[]? Nets = null, string[]? Schemes = null, string Dtype = "float32")
{
    /// <summary>The nets, defaults (relu:30, tanh:10, hardswish:10) filled in.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string[] NetList => Nets ?? ["relu:30", "tanh:10", "hardswish:10"];

    /// <summary>The schemes, defaults (glorot, he, lsuv) filled in.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string[] SchemeList => Schemes ?? ["glorot", "he", "lsuv"];

    /// <summary>One net: its activation and depth.</summary>
    /// <exception cref="ArgumentException">Not activation:depth.</exception>
    public static (Activation Activation, int Depth) ParseNet(string net)
    {
        var parts = net.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[1], out int depth) || depth < 1)
            throw new ArgumentException($"A net is activation:depth (relu:30), got '{net}'.");
        return (Models.ParseActivation(parts[0]), depth);
    }

    /// <summary>Checks sizes, names and dtype.</summary>
    /// <exception cref="ArgumentException">A size is not positive, or a name is unknown.</exception>
    public void Validate()
    {
        Check.Positive(Width, "--width"); Check.Positive(Classes, "classes"); Check.Positive(Batch, "--batch");
        Check.Positive(Steps, "--steps"); Check.PositiveFinite(Lr, "--lr");
        foreach (var n in NetList) ParseNet(n);
        foreach (var s in SchemeList) ExperimentScheme.Parse(s);
        Dtypes.Parse(Dtype);
    }
}

/// <summary>
/// What LSUV (Mishkin &amp; Matas 2016) buys on deep plain nets: the 30-layer ReLU net of He et al. 2015, a 10-layer tanh net and a
/// 10-layer Hardswish net (an activation Auto has no rule for), trained with SGD on the same synthetic stream from Glorot, He and LSUV.
/// </summary>
public static class LsuvExperiment
{
    /// <summary>Runs every net × scheme; runs are named "relu30/lsuv"; <paramref name="onStep"/> gets (run, steps done, steps).</summary>
    public static TwinDocument Run(LsuvConfig config, torch.Device device, Action<string, int, int>? onStep = null)
    {
        config.Validate();
        var runs = new List<TwinRun>();
        foreach (var net in config.NetList)
        {
            var (activation, depth) = LsuvConfig.ParseNet(net);
            foreach (var schemeName in config.SchemeList)
            {
                var scheme = ExperimentScheme.Parse(schemeName);
                string name = $"{activation.Name()}{depth}/{scheme.Name}";
                runs.Add(SyntheticRun.Run(name, activation, scheme, depth, config.Width, config.Classes, config.Batch, config.Steps, config.Lr,
                    config.Seed, Dtypes.Parse(config.Dtype), device, (i, n) => onStep?.Invoke(name, i, n), countIdenticalUnits: false));
            }
        }
        return new TwinDocument { Experiment = "lsuv", Producer = Producer.TorchSharp, Config = TwinDocument.ConfigOf(config), Runs = runs };
    }
}
