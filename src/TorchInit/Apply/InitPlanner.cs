using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// The visitor behind <c>ApplyInit</c> and <c>PlanInit</c>: decides each module's scheme from the
/// <see cref="InitPolicy"/> and writes (or, in a dry run, only reports) its parameters in pre-order, weight
/// before bias, so a seeded call draws in the same order as PyTorch's <c>model.modules()</c> loop.
/// </summary>
internal sealed class Initializer : ModuleVisitor
{
    private readonly ParameterWriter _writer;
    private readonly InitPolicy _policy;
    private readonly ActivationFinder _finder;
    private readonly Dictionary<nn.Module, (string Block, string Rule)> _zeroNorms = new(ReferenceEqualityComparer.Instance);
    private readonly List<InitReportRow> _rows = new();
    private readonly List<UnhandledModule> _unhandled = new();

    private Initializer(ModuleContext root, InitPolicy policy, ParameterWriter writer, ForwardTrace? trace)
    {
        _writer = writer;
        _policy = policy;
        _finder = new ActivationFinder(policy, trace, root);
        foreach (var rule in policy.ZeroLastNormBlocks)
            foreach (var block in root.PreOrder().Where(c => !c.IsShared && rule.Match(c)))
                if (block.PreOrder().Skip(1).LastOrDefault(c => !c.IsShared && IsNormalization(c.Module)) is { } norm)
                    _zeroNorms.TryAdd(norm.Module, (block.Path, rule.Description));
    }

    /// <summary>Decides and writes (or plans) every module of <paramref name="module"/>.</summary>
    public static InitReport Run(nn.Module module, InitPolicy policy, InitOptions? options, Action? traceForward, bool plan)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(policy);
        using var writer = new ParameterWriter(options, plan);
        var root = ModuleContext.Build(module);
        var trace = traceForward is null ? null : ForwardTrace.Record(root, traceForward);
        var initializer = new Initializer(root, policy, writer, trace);
        initializer.Visit(root);
        return new InitReport(initializer._rows, initializer._unhandled);
    }

    private enum Kind { WeightLayer, Embedding, Recurrent, Normalization, Activation, Other }

    protected override void VisitWeightLayer(ModuleContext context) => Handle(context, Kind.WeightLayer);
    protected override void VisitEmbedding(ModuleContext context, Embedding layer) => Handle(context, Kind.Embedding);
    protected override void VisitRecurrent(ModuleContext context) => Handle(context, Kind.Recurrent);
    protected override void VisitNormalization(ModuleContext context) => Handle(context, Kind.Normalization);
    protected override void VisitActivation(ModuleContext context, Activation activation) => Handle(context, Kind.Activation);
    protected override void VisitOther(ModuleContext context) => Handle(context, Kind.Other);

    /// <summary>A shared module's repeated occurrence: one Skipped row per parameter; its first occurrence decided.</summary>
    protected override void VisitShared(ModuleContext context)
    {
        var parameters = context.Module.named_parameters().ToList();
        if (parameters.Count == 0) return;
        var first = context.SharedWith!;
        var reason = $"shared: the same {context.TypeName} as '{first.Path}', initialized there; its first occurrence decides";
        if (IsWeightLayer(context.Module) && SchemeFor(context).Scheme.Kind == InitKind.Auto)
            reason += $" (here {_finder.Sequential(context).Activation.Name} follows)";
        foreach (var (name, p) in parameters)
            _rows.Add(ParameterWriter.Row(context.Path, context.TypeName, name, p, "", InitAction.Skipped,
                $"shared module, same as '{first.Path}', already initialized") with { Reason = reason });
    }

    private (InitScheme Scheme, string Reason) SchemeFor(ModuleContext c) =>
        _policy.OverrideFor(c) is { } rule ? (rule.Value, $"override {rule.Description}") : (_policy.DefaultScheme, "");

    private void Handle(ModuleContext c, Kind kind)
    {
        var own = c.Module.named_parameters(recurse: false).ToList();
        if (own.Count == 0) return;
        var types = _writer.Options.LayerTypes;
        if (types is not null && !types.Any(t => t.IsInstanceOfType(c.Module)))
        {
            Unhandled(c, own);
            return;
        }
        var (scheme, overridden) = SchemeFor(c);
        if (scheme.Kind != InitKind.Auto)
        {
            if (overridden.Length == 0 && types is null && !InitOptions.DefaultLayerTypes.Any(t => t.IsInstanceOfType(c.Module)))
                Unhandled(c, own);
            else
                Layer(c, own, scheme, r => overridden.Length == 0 ? r : r with { Reason = $"{overridden}: {scheme.Name}" });
            return;
        }
        switch (kind)
        {
            case Kind.WeightLayer:
                AutoWeightLayer(c, own);
                break;
            case Kind.Other when types is not null: // listed explicitly in LayerTypes: a weight layer by choice
                AutoWeightLayer(c, own);
                break;
            case Kind.Embedding:
                AutoEmbedding(c, own);
                break;
            case Kind.Recurrent:
                AutoRecurrent(c, own);
                break;
            case Kind.Normalization:
                AutoNormalization(c, own);
                break;
            case Kind.Activation:
                foreach (var (name, p) in own)
                    _rows.Add(ParameterWriter.Row(c.Path, c.TypeName, name, p, "keep", InitAction.Kept, "activation parameter, left as constructed")
                        with { ActivationSource = ActivationSource.Intrinsic, Reason = "an activation's own parameter (PReLU slope): left at its constructor value" });
                break;
            default:
                Unhandled(c, own);
                break;
        }
    }

    private void Unhandled(ModuleContext c, List<(string name, Parameter parameter)> own) =>
        _unhandled.Add(new UnhandledModule(c.Path, c.TypeName, own.Select(p => p.name).ToList()));

    /// <summary>A layer's weight by <paramref name="scheme"/> (fans by the fan convention), its bias by the bias policy, other parameters skipped.</summary>
    private void Layer(ModuleContext c, List<(string name, Parameter parameter)> own, InitScheme scheme, Func<InitReportRow, InitReportRow> decorate)
    {
        string path = c.Path, type = c.TypeName;
        var weight = own.FirstOrDefault(p => p.name == "weight").parameter;
        Fans? fans = null;
        Func<Fans>? weightFans = weight is null ? null
            : () => fans ??= Fans.ForLayer(c.Module, weight.shape, _writer.Options.FanConvention, Qualified(path, "weight"));
        if (weight is not null)
            _rows.Add(decorate(_writer.Weight(path, type, "weight", weight, scheme, weightFans!)));
        foreach (var (name, p) in own)
        {
            if (name == "weight") continue;
            _rows.Add(decorate(name == "bias"
                ? _writer.Bias(path, type, name, p, _writer.Options.Bias ?? scheme.DefaultBias, weightFans)
                : ParameterWriter.Row(path, type, name, p, scheme.Name, InitAction.Skipped, "not a weight or bias of a handled layer")));
        }
    }

    private void AutoWeightLayer(ModuleContext c, List<(string name, Parameter parameter)> own)
    {
        var (activation, source, detail) = _finder.Find(c);
        var (scheme, why, assumed) = _policy.Choose(activation);
        if (assumed) source = ActivationSource.Assumed;
        var reason = $"{Capitalize(detail)}; {why}";
        Layer(c, own, scheme, r => r with { Activation = activation.Name, ActivationSource = source, Reason = reason });
    }

    private void AutoEmbedding(ModuleContext c, List<(string name, Parameter parameter)> own)
    {
        var weight = own.FirstOrDefault(p => p.name == "weight").parameter;
        if (weight is null || weight.dim() != 2)
        {
            Unhandled(c, own);
            return;
        }
        long dim = weight.shape[1];
        var scheme = _policy.Embeddings == EmbeddingInit.Scaled
            ? InitScheme.Normal(1 / Math.Sqrt(dim)) with { Name = $"Normal(0, 1/√{dim})" }
            : InitScheme.Normal(1.0);
        var reason = _policy.Embeddings == EmbeddingInit.Scaled
            ? $"Embedding: scaled N(0, 1/d), d = {dim}, so each embedded vector has norm ≈ 1"
            : "Embedding: PyTorch's default N(0, 1): a row is looked up, not summed over a fan";
        long? padding = weight.device_type == DeviceType.META ? null : ZeroRow(weight);
        var row = _writer.Weight(c.Path, c.TypeName, "weight", weight, scheme, () => Fans.FromShape(weight.shape, Qualified(c.Path, "weight")));
        if (padding is long index && row.Action is InitAction.Initialized or InitAction.Planned)
        {
            if (!_writer.Plan)
            {
                using var _ = no_grad();
                using var paddingRow = weight[index];
                paddingRow.zero_();
            }
            var note = $"row {index} kept at 0 (it was the only all-zero row: padding_idx)";
            row = _writer.Remeasure(row with { Note = row.Note.Length == 0 ? note : $"{row.Note}; {note}" }, weight);
            reason += $"; row {index} kept at 0 (padding_idx)";
        }
        _rows.Add(row with { ActivationSource = ActivationSource.Intrinsic, Reason = reason });
        foreach (var (name, p) in own.Where(p => p.name != "weight"))
            _rows.Add(ParameterWriter.Row(c.Path, c.TypeName, name, p, scheme.Name, InitAction.Skipped, "not a weight of an Embedding"));
    }

    /// <summary>
    /// TorchSharp does not expose an Embedding's padding_idx; its constructor (like PyTorch's) zeroes that row of an
    /// N(0, 1) draw, so a single all-zero row among several is taken to be it.
    /// </summary>
    private static long? ZeroRow(Tensor weight)
    {
        if (weight.shape[0] < 2) return null;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var zeroRows = weight.eq(0).all(1).nonzero().flatten();
        return zeroRows.numel() == 1 ? zeroRows.item<long>() : null;
    }

    private void AutoRecurrent(ModuleContext c, List<(string name, Parameter parameter)> own)
    {
        var hh = own.FirstOrDefault(p => p.name.StartsWith("weight_hh", StringComparison.Ordinal)).parameter;
        var ih = own.FirstOrDefault(p => p.name.StartsWith("weight_ih", StringComparison.Ordinal)).parameter;
        if (hh is null || ih is null || hh.dim() != 2)
        {
            Unhandled(c, own);
            return;
        }
        long hidden = hh.shape[1];
        int gates = (int)(ih.shape[0] / hidden);
        bool lstm = c.Module is LSTM or LSTMCell, gru = c.Module is GRU or GRUCell;
        string gateNames = lstm ? "i, f, g, o" : gru ? "r, z, n" : "";

        Activation activation;
        ActivationSource source;
        string why;
        if (lstm || gru)
        {
            activation = Activation.Sigmoid;
            source = ActivationSource.Intrinsic;
            why = $"{c.TypeName} gates ({gateNames}) are sigmoids (the candidate's tanh shares the layout)";
        }
        else if (_policy.HintFor(c) is { } hint)
        {
            (activation, source, why) = (hint.Value, ActivationSource.Hint, $"{hint.Description} says the cell's nonlinearity is {hint.Value.Name}");
        }
        else
        {
            (activation, source, why) = (Activation.Tanh, ActivationSource.Assumed,
                "TorchSharp does not expose an RNN's nonlinearity: tanh (PyTorch's default) assumed; a hint with Activation.Relu says otherwise");
        }
        var (inputScheme, inputWhy, _) = _policy.Choose(activation);
        var recurrent = _policy.HiddenToHiddenScheme;
        var forget = _policy.LstmForgetGateBias;
        foreach (var (name, p) in own)
        {
            InitReportRow row;
            string reason;
            if (name.StartsWith("weight_ih", StringComparison.Ordinal))
            {
                row = _writer.WeightBlocks(c.Path, c.TypeName, name, p, inputScheme, gates);
                reason = $"input-to-hidden, per gate: {why}; {inputWhy}";
            }
            else if (name.StartsWith("weight_hh", StringComparison.Ordinal))
            {
                row = _writer.WeightBlocks(c.Path, c.TypeName, name, p, recurrent, gates);
                reason = $"hidden-to-hidden, per gate [{hidden}, {hidden}] block: {recurrent.Name} keeps the recurrent map's singular values at the gain, " +
                         "so repeated steps neither explode nor vanish (Saxe et al. 2013)";
            }
            else if (lstm && forget != 0 && name.StartsWith("bias_ih", StringComparison.Ordinal) && p.shape[0] == 4 * hidden)
            {
                row = _writer.Constant(c.Path, c.TypeName, name, p, 0.0, $"zeros, forget gate {Num(forget)}", (hidden, hidden, forget),
                    $"elements [{hidden}, {2 * hidden}) (forget gate) = {Num(forget)}");
                reason = $"bias 0, forget gate {Num(forget)} in bias_ih only (bias_hh stays 0, so b_ih + b_hh = {Num(forget)}): the cell remembers by default (Jozefowicz et al. 2015)";
            }
            else if (name.StartsWith("bias", StringComparison.Ordinal))
            {
                row = _writer.Constant(c.Path, c.TypeName, name, p, 0.0, "zeros");
                reason = "recurrent bias: 0";
            }
            else
            {
                row = ParameterWriter.Row(c.Path, c.TypeName, name, p, "", InitAction.Skipped, "not a weight or bias of a recurrent layer");
                reason = "";
            }
            _rows.Add(row with { Activation = activation.Name, ActivationSource = source, Reason = reason });
        }
    }

    private void AutoNormalization(ModuleContext c, List<(string name, Parameter parameter)> own)
    {
        bool zero = _zeroNorms.TryGetValue(c.Module, out var block);
        foreach (var (name, p) in own)
        {
            InitReportRow row;
            string reason;
            if (name == "weight")
            {
                row = zero ? _writer.Constant(c.Path, c.TypeName, name, p, 0.0, "zeros") : _writer.Constant(c.Path, c.TypeName, name, p, 1.0, "ones");
                reason = zero
                    ? $"last normalization in residual block '{block.Block}' ({block.Rule}): weight 0, so the block starts as the identity (Goyal et al. 2017)"
                    : "normalization: weight 1, bias 0 (the identity affine map, PyTorch's default)";
            }
            else if (name == "bias")
            {
                row = _writer.Constant(c.Path, c.TypeName, name, p, 0.0, "zeros");
                reason = "normalization: bias 0";
            }
            else
            {
                row = ParameterWriter.Row(c.Path, c.TypeName, name, p, "", InitAction.Skipped, "not a weight or bias of a normalization layer");
                reason = "";
            }
            _rows.Add(row with { ActivationSource = ActivationSource.Intrinsic, Reason = reason });
        }
    }

    private static string Qualified(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
    private static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
