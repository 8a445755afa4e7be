using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>The μP twin's configuration (scripts/twins/mup.py): seed, Adam steps and base learning rate, dtype, runs, the two models.</summary>
public sealed record MupTwinConfig(int Seed, int Steps, double Lr, string Dtype, List<string> Runs, MupTwinMlpConfig Mlp, MupTwinGptConfig Gpt);

/// <summary>The MLP's sizes: input features, classes, batch, widths, base and delta width, the μP readout's α.</summary>
public sealed record MupTwinMlpConfig(long DIn, long Classes, long Batch, List<long> Widths, long Base, long Delta, double ReadoutMultiplier);

/// <summary>The transformer's sizes: vocabulary, context, heads, blocks, batch, widths, base and delta width, the untied and tied readouts' α, the attention's α.</summary>
public sealed record MupTwinGptConfig(long Vocab, long Ctx, long NHead, long NLayer, long Batch, List<long> Widths, long Base, long Delta,
    double ReadoutMultiplier, double TiedMultiplier, double AttnMultiplier);

/// <summary>One parameter at one width: its μP entry (null fields under SP), the std written, and the realized weights.</summary>
public sealed record MupTwinParameter
{
    /// <summary>The width of the model.</summary>
    public long Width { get; init; }
    /// <summary>Qualified name (a tied weight by its first holder).</summary>
    public required string Name { get; init; }
    /// <summary>Shape.</summary>
    public required long[] Shape { get; init; }
    /// <summary>The std written: μP std under μP (0 for constants and zeroed tensors), the scheme's std under SP.</summary>
    public double MupStd { get; init; }
    /// <summary>Unbiased std of the written values, float64.</summary>
    public double RealizedStd { get; init; }
    /// <summary>Mean of the written values, float64.</summary>
    public double RealizedMean { get; init; }
    /// <summary>First 16 hex digits of the SHA-256 of the raw values: equal means bit-identical weights.</summary>
    public string Digest { get; init; } = "";
    /// <summary>μP class (Input, Hidden, Output, VectorLike, Finite); null under SP.</summary>
    public string? Class { get; init; }
    /// <summary>m_in.</summary>
    public double? FanInMult { get; init; }
    /// <summary>m_out.</summary>
    public double? FanOutMult { get; init; }
    /// <summary>m.</summary>
    public double? WidthMult { get; init; }
    /// <summary>Whether it is a MuReadout's weight.</summary>
    public bool? Readout { get; init; }
    /// <summary>s = μP std / σ (1 for constants, 0 for zeroed).</summary>
    public double? MupScale { get; init; }
    /// <summary>Adam learning-rate multiplier.</summary>
    public double? AdamLr { get; init; }
    /// <summary>SGD learning-rate multiplier.</summary>
    public double? SgdLr { get; init; }
    /// <summary>AdamW weight-decay multiplier.</summary>
    public double? AdamwWd { get; init; }
}

/// <summary>One coordinate-check row: mean |y| of a module's output (or "(output)") at a width and step, before that step's update.</summary>
public sealed record MupTwinCoordinate(long Width, int Step, string Module, string Type, double L1);

/// <summary>The loss at a width and step, before that step's update.</summary>
public sealed record MupTwinLoss(long Width, int Step, double Loss);

/// <summary>A base shape: the parameter's shape in the base model and which dimensions are infinite.</summary>
public sealed record MupTwinBaseShape(string Name, long[] BaseShape, bool[] Infinite);

/// <summary>One run (a model and variant) at every width.</summary>
public sealed record MupTwinRun
{
    /// <summary>"mlp/plain", "mlp/readout", "mlp/sp", "gpt/tied", "gpt/untied", "gpt/sp".</summary>
    public required string Name { get; init; }
    /// <summary>"mlp" or "gpt".</summary>
    public required string Model { get; init; }
    /// <summary>"plain", "readout", "tied", "untied" or "sp".</summary>
    public required string Variant { get; init; }
    /// <summary>"mup" or "sp".</summary>
    public required string Parametrization { get; init; }
    /// <summary>The widths.</summary>
    public required List<long> Widths { get; init; }
    /// <summary>The base width.</summary>
    public long BaseWidth { get; init; }
    /// <summary>The delta width.</summary>
    public long DeltaWidth { get; init; }
    /// <summary>Σ of every batch's inputs and targets (float64): the two sides train on the same data.</summary>
    public double DataChecksum { get; init; }
    /// <summary>Every distinct parameter at every width.</summary>
    public required List<MupTwinParameter> Parameters { get; init; }
    /// <summary>The coordinate check's rows.</summary>
    public required List<MupTwinCoordinate> Coordinates { get; init; }
    /// <summary>The losses.</summary>
    public required List<MupTwinLoss> Losses { get; init; }
    /// <summary>The base shapes (μP runs).</summary>
    public List<MupTwinBaseShape>? BaseShapes { get; init; }
}

/// <summary>The μP twin's document: what scripts/twins/mup.py writes, and what <see cref="MupTwin.Run"/> writes for TorchSharp.</summary>
public sealed record MupTwinDocument
{
    /// <summary>"mup".</summary>
    public required string Experiment { get; init; }
    /// <summary>"pytorch 2.6.0", "torchsharp 0.107.0".</summary>
    public required string Producer { get; init; }
    /// <summary>The configuration.</summary>
    public required MupTwinConfig Config { get; init; }
    /// <summary>The runs.</summary>
    public required List<MupTwinRun> Runs { get; init; }

    /// <summary>Whether the JSON file at <paramref name="path"/> is a μP twin document (experiment "mup").</summary>
    public static bool Is(string path) =>
        JsonNode.Parse(File.ReadAllText(path)) is JsonObject o && o["experiment"] is JsonValue v && v.TryGetValue<string>(out var e) && e == "mup";

    /// <summary>Reads a μP twin document.</summary>
    public static MupTwinDocument Load(string path) =>
        JsonSerializer.Deserialize<MupTwinDocument>(File.ReadAllText(path), TwinDocument.JsonOptions)
        ?? throw new InvalidDataException($"{path} holds no μP twin document.");

    /// <summary>Writes it as JSON, creating the folder.</summary>
    public void Save(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, JsonSerializer.Serialize(this, TwinDocument.JsonOptions) + "\n");
    }
}

/// <summary>
/// The TorchSharp side of the μP twin: rebuilds each run's models, applies TorchInit's μP (<see cref="MuBaseShapes.FromFactory"/> for
/// the MLP, <see cref="MuBaseShapes.FromModels"/> for the transformer; <c>InitPolicy.Of(TorchDefault).MuP(shapes)</c>,
/// <see cref="MuP.Parameters"/>, <see cref="MuP.Adam"/>, <see cref="CoordinateCheck.Run"/>), and records the same quantities.
/// </summary>
public static class MupTwin
{
    /// <summary>Total Adam steps of the replay (for progress bars).</summary>
    public static int TotalSteps(MupTwinDocument reference) =>
        reference.Config.Runs.Sum(r => (r.StartsWith("mlp") ? reference.Config.Mlp.Widths.Count : reference.Config.Gpt.Widths.Count) * reference.Config.Steps);

    /// <summary>Runs every run of <paramref name="reference"/>'s configuration in TorchSharp.</summary>
    public static MupTwinDocument Run(MupTwinDocument reference, Device device, Action<string, int, int>? onStep = null)
    {
        var c = reference.Config;
        var dtype = c.Dtype switch
        {
            "float32" => ScalarType.Float32,
            "float64" => ScalarType.Float64,
            var d => throw new InvalidDataException($"Unknown dtype '{d}'."),
        };
        int done = 0, total = TotalSteps(reference);
        var runs = c.Runs.Select(name => RunOne(name, c, dtype, device, () => onStep?.Invoke(name, ++done, total))).ToList();
        return new MupTwinDocument { Experiment = "mup", Producer = $"torchsharp {typeof(torch).Assembly.GetName().Version?.ToString(3)}", Config = c, Runs = runs };
    }

    private sealed record Setup(Func<long, nn.Module<Tensor, Tensor>> Build, bool Mup, MuOptions? Options, List<long> Widths, long Base, long Delta,
        List<(Tensor Input, Tensor Target)> Batches, Func<Tensor, Tensor, Tensor> Loss, bool FromFactory);

    private static Setup SetUp(string name, MupTwinConfig c, ScalarType dtype, Device device)
    {
        var parts = name.Split('/');
        if (parts.Length != 2) throw new InvalidDataException($"Unknown run '{name}'.");
        var (kind, variant) = (parts[0], parts[1]);
        bool mup = variant != "sp";
        if (kind == "mlp")
        {
            var m = c.Mlp;
            double? alpha = variant == "readout" ? m.ReadoutMultiplier : null;
            if (variant is not ("plain" or "readout" or "sp")) throw new InvalidDataException($"Unknown run '{name}'.");
            using var stream = new ClusterStream(c.Seed + 1, m.DIn, m.Classes, m.Batch, dtype, device);
            var batches = Enumerable.Range(0, c.Steps).Select(_ => stream.Next()).Select(b => (b.Inputs, b.Labels)).ToList();
            return new Setup(w => MupTwinModels.Mlp(m.DIn, w, m.Classes, alpha), mup, null, m.Widths, m.Base, m.Delta, batches,
                (y, t) => nn.functional.cross_entropy(y, t), FromFactory: true);
        }
        if (kind == "gpt")
        {
            var g = c.Gpt;
            if (variant is not ("tied" or "untied" or "sp")) throw new InvalidDataException($"Unknown run '{name}'.");
            bool tied = variant != "untied";
            double alpha = tied ? g.TiedMultiplier : g.ReadoutMultiplier;
            using var gen = new Generator((ulong)(c.Seed + 1), new Device(DeviceType.CPU));
            var batches = new List<(Tensor, Tensor)>();
            for (int i = 0; i < c.Steps; i++)
            {
                using var tokens = randint(0, g.Vocab, [g.Batch, g.Ctx + 1], ScalarType.Int64, generator: gen);
                batches.Add((tokens.narrow(1, 0, g.Ctx).contiguous().to(device), tokens.narrow(1, 1, g.Ctx).contiguous().to(device)));
            }
            var options = variant == "untied" ? new MuOptions { ZeroQueries = true, QueryLayers = "blocks.*.attn.q" } : null;
            return new Setup(w => new MupTwinGpt(g.Vocab, g.Ctx, w, g.NHead, g.NLayer, tied, mup, alpha, g.AttnMultiplier), mup, options,
                g.Widths, g.Base, g.Delta, batches,
                (y, t) => nn.functional.cross_entropy(y.reshape(-1, y.shape[^1]), t.reshape(-1)), FromFactory: false);
        }
        throw new InvalidDataException($"Unknown run '{name}'.");
    }

    /// <summary>
    /// Builds a model with <paramref name="dtype"/> and <paramref name="device"/> as the defaults (so tied weights stay tied) after
    /// <c>manual_seed(seed + 2)</c>, as the twin does: the construction's draws are what the policy leaves (the embeddings).
    /// </summary>
    private static nn.Module<Tensor, Tensor> BuildOn(Func<long, nn.Module<Tensor, Tensor>> build, long width, ScalarType dtype, Device device, int seed)
    {
        var (dt, dev) = (get_default_dtype(), get_default_device());
        set_default_dtype(dtype);
        set_default_device(device);
        try
        {
            torch.random.manual_seed(seed + 2);
            return build(width);
        }
        finally
        {
            set_default_dtype(dt);
            set_default_device(dev);
        }
    }

    private static MupTwinRun RunOne(string name, MupTwinConfig c, ScalarType dtype, Device device, Action stepped)
    {
        var s = SetUp(name, c, dtype, device);
        try
        {
            MuBaseShapes? shapes = null;
            if (s.Mup)
            {
                if (s.FromFactory) shapes = MuBaseShapes.FromFactory(s.Build, s.Base, s.Delta);
                else
                {
                    using var b = s.Build(s.Base);
                    using var d = s.Build(s.Delta);
                    shapes = MuBaseShapes.FromModels(b, d);
                }
            }
            InitPolicy policy = s.Mup ? InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes!, s.Options) : InitPolicy.Of(InitScheme.TorchDefault);
            var init = new InitOptions { Seed = c.Seed };

            var parameters = new List<MupTwinParameter>();
            foreach (long w in s.Widths)
            {
                using var model = BuildOn(s.Build, w, dtype, device, c.Seed);
                var report = model.ApplyInit(policy, init);
                var rows = report.Rows.GroupBy(r => r.QualifiedName).ToDictionary(g => g.Key, g => g.First());
                var mu = shapes is null ? null : MuP.Parameters(model, shapes).ToDictionary(p => p.Name);
                foreach (var (pname, p) in Distinct(model))
                {
                    using var scope = NewDisposeScope();
                    var v = p.detach().to_type(ScalarType.Float64);
                    var row = rows.GetValueOrDefault(pname);
                    var entry = new MupTwinParameter
                    {
                        Width = w, Name = pname, Shape = p.shape, MupStd = row?.TargetStd ?? double.NaN,
                        RealizedStd = v.std().item<double>(), RealizedMean = v.mean().item<double>(), Digest = Digest(p),
                    };
                    if (mu is not null && mu.TryGetValue(pname, out var info))
                        entry = entry with
                        {
                            Class = info.Class.ToString(), FanInMult = info.FanInMultiplier, FanOutMult = info.FanOutMultiplier,
                            WidthMult = info.WidthMultiplier, Readout = info.IsReadout, MupScale = row?.MuScale ?? double.NaN,
                            AdamLr = info.AdamLearningRate, SgdLr = info.SgdLearningRate, AdamwWd = info.AdamWWeightDecay,
                        };
                    parameters.Add(entry);
                }
            }

            var losses = new List<double>();
            Tensor Loss(Tensor y, Tensor t)
            {
                var l = s.Loss(y, t);
                losses.Add(l.detach().to_type(ScalarType.Float64).item<double>());
                stepped();
                return l;
            }
            var check = CoordinateCheck.Run(s.Widths,
                w => { var m = BuildOn(s.Build, w, dtype, device, c.Seed); m.ApplyInit(policy, init); return m; },
                m => shapes is not null ? MuP.Adam(m, shapes, lr: c.Lr) : optim.Adam(Distinct(m).Select(p => p.Parameter), lr: c.Lr),
                s.Batches, Loss);
            int steps = s.Batches.Count;
            double checksum = 0;
            foreach (var (x, y) in s.Batches)
                checksum += x.to_type(ScalarType.Float64).sum().item<double>() + y.to_type(ScalarType.Float64).sum().item<double>();
            return new MupTwinRun
            {
                Name = name, Model = name.Split('/')[0], Variant = name.Split('/')[1], Parametrization = s.Mup ? "mup" : "sp",
                Widths = s.Widths, BaseWidth = s.Base, DeltaWidth = s.Delta, DataChecksum = checksum, Parameters = parameters,
                Coordinates = check.Rows.Select(r => new MupTwinCoordinate(r.Width, r.Step, r.Module, r.LayerType, r.L1)).ToList(),
                Losses = losses.Select((l, i) => new MupTwinLoss(s.Widths[i / steps], i % steps, l)).ToList(),
                BaseShapes = shapes?.Parameters.Select(p => new MupTwinBaseShape(p.Name, p.BaseShape.ToArray(), p.Infinite.ToArray())).ToList(),
            };
        }
        finally
        {
            foreach (var (x, y) in s.Batches)
            {
                x.Dispose();
                y.Dispose();
            }
        }
    }

    /// <summary>
    /// Each distinct parameter once, by its first holder, in pre-order (PyTorch's <c>named_parameters()</c>). TorchSharp's
    /// <c>named_parameters()</c> lists a tied weight under every holder (a <see cref="MuSharedReadout"/>'s weight is its embedding's).
    /// </summary>
    private static List<(string Name, Parameter Parameter)> Distinct(nn.Module model)
    {
        var shared = model.named_modules().Where(m => m.module is MuSharedReadout).Select(m => m.name + ".weight").ToHashSet();
        return model.named_parameters().Where(p => !shared.Contains(p.name)).Select(p => (p.name, p.parameter)).ToList();
    }

    private static string Digest(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return Convert.ToHexString(SHA256.HashData(c.bytes)).ToLowerInvariant()[..16];
    }
}
