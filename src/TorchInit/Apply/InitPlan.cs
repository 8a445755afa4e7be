using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// One parameter's entry in a plan: where it is, what will be written (<see cref="Fill"/>, null when nothing is), the
/// numbers the report shows, and the layer's decision. Built by <see cref="InitPlanner"/>, checked and written by <see cref="PlanWriter"/>.
/// </summary>
internal sealed record PlannedParameter
{
    public required string Path { get; init; }
    public required string LayerType { get; init; }
    public required string Name { get; init; }
    public required Tensor Tensor { get; init; }
    /// <summary>What will be written; null for rows that write nothing (kept, skipped, warnings).</summary>
    public Fill? Fill { get; init; }
    public required InitAction Action { get; init; }
    public required string Scheme { get; init; }
    public string Note { get; init; } = "";
    public Fans? Fans { get; init; }
    public FanConvention? FanConvention { get; init; }
    public double Gain { get; init; } = double.NaN;
    public string Activation { get; init; } = "";
    public ActivationSource Source { get; init; } = ActivationSource.Explicit;
    /// <summary>Why, where a rule explained it; null for rows no rule explained. A module's decision is its first entry that has one.</summary>
    public DecisionReason? Reason { get; init; }
    /// <summary>For a parameter tied to one met earlier in pre-order (the same storage): that one's qualified name; null otherwise.</summary>
    public string? TiedTo { get; init; }
    /// <summary>
    /// In the construction replay, for a tied parameter (<see cref="TiedTo"/>): what its module's constructor drew into a tensor of its
    /// own before the model tied it. Drawn into a scratch tensor and discarded, so the stream advances as in PyTorch; the parameter is
    /// not written. Null otherwise.
    /// </summary>
    public Fill? DiscardedDraws { get; init; }
    /// <summary>
    /// Under <see cref="InitPolicy.MuP"/>: σ₀/σ, the std this entry's rule gives the parameter at its base shape over the std it gives
    /// here (1 for fills that draw nothing); NaN without μP or where the rule has no std at the base shape.
    /// </summary>
    public double MuBaseRatio { get; init; } = double.NaN;
    /// <summary>Under <see cref="InitPolicy.MuP"/>: the parameter's class, width multiplier and the scale applied (NaN when nothing was written); null otherwise.</summary>
    public MuDecision? Mu { get; init; }

    public string QualifiedName => Path.Length == 0 ? Name : $"{Path}.{Name}";

    /// <summary>Whether writing the plan writes this tensor.</summary>
    public bool Writes => Fill is not null && Action == InitAction.Initialized;

    /// <summary>The report row; realized statistics are added by the writer.</summary>
    public InitReportRow ToRow() => new()
    {
        Path = Path, LayerType = LayerType, Parameter = Name, Shape = Tensor.shape,
        FanIn = Fans?.FanIn, FanOut = Fans?.FanOut, FanConvention = FanConvention,
        Scheme = Scheme, Distribution = Fill?.Distribution ?? "", Gain = Gain,
        TargetStd = Fill?.TargetStd ?? double.NaN, Bound = Fill?.Bound ?? double.NaN,
        Action = Action, Note = Note, Activation = Activation, ActivationSource = Source, Reason = Reason?.Text ?? "",
        MuClass = Mu?.Class, WidthMultiplier = Mu?.WidthMultiplier ?? double.NaN, MuScale = Mu?.Scale ?? double.NaN,
    };
}

/// <summary>What a plan is: the constructors' draws to replay, the parameters in pre-order, the modules' decisions, what was not handled, and the policy's warnings.</summary>
internal sealed class InitPlan
{
    public List<PlannedParameter> Parameters { get; } = new();
    /// <summary>
    /// Under <see cref="InitPolicy.ReplaysConstruction"/>: the constructors' draws, in construction order, written before
    /// <see cref="Parameters"/> (a tensor may appear twice: MultiheadAttention draws out_proj.bias, then zeroes it).
    /// </summary>
    public List<PlannedParameter> Replay { get; } = new();
    public List<LayerDecision> Decisions { get; } = new();
    public List<UnhandledModule> Unhandled { get; } = new();
    public List<string> PolicyWarnings { get; } = new();
    /// <summary>Under <see cref="InitPolicy.MuP"/>: each μP readout with the m_in the writer gives it (not set by a dry run).</summary>
    public List<(MuReadoutModule Readout, double WidthMultiplier)> Readouts { get; } = new();
}

/// <summary>A parameter's μP decision for the report: its class, width multiplier m and the scale s applied to its rule's fill.</summary>
internal sealed record MuDecision(MuClass Class, double WidthMultiplier, double Scale);
