using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace TorchInit.Experiments;

/// <summary>
/// What one side of a twin experiment produced, as JSON: the experiment's name and configuration, and per run
/// (e.g. "tanh/glorot") the initial per-layer statistics of the <see cref="SignalProbe"/> and the loss curve.
/// The PyTorch twins (scripts/twins/*.py) write the same format. Non-finite numbers are written as the strings
/// "NaN", "Infinity" and "-Infinity".
/// </summary>
public sealed record TwinDocument
{
    /// <summary>"depth-sweep", "he2015" or "mnist".</summary>
    public required string Experiment { get; init; }
    /// <summary>Who produced it, e.g. "pytorch 1.13.1" or "torchsharp 0.107.0".</summary>
    public required string Producer { get; init; }
    /// <summary>The experiment's configuration (sizes, seed, learning rate…), snake_case keys.</summary>
    public required JsonObject Config { get; init; }
    /// <summary>One entry per model/scheme combination, in a fixed order.</summary>
    public required List<TwinRun> Runs { get; init; }

    /// <summary>The JSON options of the format: snake_case names, named floating-point literals, indented.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Reads a twin JSON file.</summary>
    public static TwinDocument Load(string path) =>
        JsonSerializer.Deserialize<TwinDocument>(File.ReadAllText(path), JsonOptions)
        ?? throw new InvalidDataException($"{path} holds no twin document.");

    /// <summary>Writes this document as JSON, creating the folder.</summary>
    public void Save(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions) + "\n");
    }

    /// <summary>The configuration as a typed record.</summary>
    public T ConfigAs<T>() => Config.Deserialize<T>(JsonOptions) ?? throw new InvalidDataException("empty config");

    /// <summary>A typed configuration as the JSON object stored in <see cref="Config"/>.</summary>
    public static JsonObject ConfigOf<T>(T config) => JsonSerializer.SerializeToNode(config, JsonOptions)!.AsObject();

    /// <summary>The run named <paramref name="name"/>.</summary>
    public TwinRun this[string name] => Runs.FirstOrDefault(r => r.Name == name)
        ?? throw new KeyNotFoundException($"No run '{name}'. Known: {string.Join(", ", Runs.Select(r => r.Name))}.");
}

/// <summary>One model/scheme combination of a twin experiment.</summary>
public sealed record TwinRun
{
    /// <summary>e.g. "tanh/glorot", "cnn/he".</summary>
    public required string Name { get; init; }
    /// <summary>The loss of the probe's pass (at initialization, on the first batch).</summary>
    public double ProbeLoss { get; init; }
    /// <summary>The probe's rows at initialization, in execution order.</summary>
    public required List<TwinLayer> Layers { get; init; }
    /// <summary>The training loss of every step, before that step's update.</summary>
    public required List<double> Losses { get; init; }
    /// <summary>How many hidden layers have all their units identical after training (the symmetry problem); null when not measured.</summary>
    public int? IdenticalUnitLayers { get; init; }
    /// <summary>Test accuracy after each epoch (MNIST); null when not measured.</summary>
    public List<double>? Accuracy { get; init; }
    /// <summary>Validation accuracy after each epoch (MNIST with a validation split); null when not measured.</summary>
    public List<double>? ValidationAccuracy { get; init; }
}

/// <summary>One probed module call; the fields of a <see cref="SignalRow"/>.</summary>
public sealed record TwinLayer(int Index, string Path, string Type, double Mean, double Std, double Saturated, double Dead, double GradOutStd, double GradWeightStd)
{
    /// <summary>The row's statistics, named as in the JSON.</summary>
    public IEnumerable<(string Name, double Value)> Statistics()
    {
        yield return ("mean", Mean);
        yield return ("std", Std);
        yield return ("saturated", Saturated);
        yield return ("dead", Dead);
        yield return ("grad_out_std", GradOutStd);
        yield return ("grad_weight_std", GradWeightStd);
    }

    /// <summary>The twin form of a probe row.</summary>
    public static TwinLayer From(SignalRow r) =>
        new(r.Index, r.Path, r.LayerType, r.ActivationMean, r.ActivationStd, r.SaturatedFraction, r.DeadFraction, r.OutputGradStd, r.WeightGradStd);

    /// <summary>The twin form of a whole report.</summary>
    public static List<TwinLayer> From(SignalReport report) => report.Rows.Select(From).ToList();
}
