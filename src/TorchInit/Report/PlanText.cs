using System.Globalization;

namespace TorchInit;

/// <summary>
/// Every sentence a plan shows, made here and nowhere else: the reasons of the layer families' rules, the notes of the entries,
/// the policy warnings. The planner and the families decide with typed values and call these for the report's text.
/// </summary>
internal static class PlanText
{
    public static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
    public static string Num4(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
    public static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
    public static string Qualified(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
    public static string Join(string a, string b) => a.Length == 0 ? b : $"{a}; {b}";

    // ---- entries: why a parameter is not written ----

    public static string TiedPlanned(string first) =>
        $"shared with {first}, already initialized: tied (the same storage), one parameter with one decision and one write, at its first occurrence in pre-order";
    public static string TiedLeft(string left) =>
        $"shared with {left}, which this policy leaves unchanged: tied (the same storage), its first occurrence in pre-order decides";
    public const string Frozen = "frozen (requires_grad = false); set IncludeFrozen to initialize it";
    public const string ZeroElements = "zero-element tensor: initialization is a no-op";
    public const string NotWeightOrBias = "not a weight or bias of a handled layer";
    public const string BiasKept = "bias policy Keep";
    public const string BiasWithoutWeight = "no weight to take fan_in from; left unchanged";
    public static string SharedModuleNote(string origin) => $"shared module, same as '{origin}', already initialized";
    public static string SharedModule(string type, string origin) => $"shared: the same {type} as '{origin}', initialized there; its first occurrence decides";
    public static string SharedModuleFollowedBy(string activation) => $" (here {activation} follows)";
    public static string NoTorchDefault(string type, string name) => $"PyTorch's {type} has no default for '{name}'";
    public static string TorchDefaultOf(string type) => $"PyTorch's default {type} init (its reset_parameters)";

    /// <summary>How a bias policy reads in the report: "zeros", "keep", "TorchDefault".</summary>
    public static string BiasName(BiasInit policy) => policy switch
    {
        BiasInit.Zeros => "zeros",
        BiasInit.Keep => "keep",
        _ => "TorchDefault",
    };

    // ---- blocks ----

    public const string OnePerGate = "one per gate", OnePerStackedBlock = "one per stacked block", QKV = "q, k, v", OnePerDeclaredBlock = "one per declared block";
    public static string Blocks(int blocks, long[] blockShape, string each) => $"{blocks} blocks [{string.Join(", ", blockShape)}], {each}, each drawn on its own";
    public static string StackedBlocks(string rule, int blocks) => $"{rule}: {blocks} blocks, each with its own fans";

    // ---- gain, activation ----

    public static string GainOverride(double gain, double schemeGain) => $"; gain {Num(gain)} set by InitOptions.Gain instead of {Num(schemeGain)}";
    public static string FoundActivation(string detail, string why, string gainNote) => $"{Capitalize(detail)}; {why}{gainNote}";

    // ---- residual passes ----

    public static string NarrowedScheme(string scheme, double divisor) => $"{scheme} / {Num(divisor)}";
    public static string NarrowedNote(double divisor) => $"std / {Num(divisor)} (residual)";
    public static string CannotNarrow(string rule, string parameter, string scheme, string distribution) =>
        $"{rule}: '{parameter}' is filled by {scheme} ({distribution}), which has no std to scale.";
    public static string ZeroLastNorm(string block, string rule, string? shortcut) =>
        $"last normalization of the residual branch of block '{block}' ({rule}): weight 0, so the block starts as the identity (Goyal et al. 2017)" +
        (shortcut is null ? "" : $"; '{shortcut}' is the shortcut, its normalization keeps weight 1");

    // ---- normalization ----

    public const string NormalizationWeight = "normalization: weight 1, bias 0 (the identity affine map, PyTorch's default)";
    public const string NormalizationBias = "normalization: bias 0";
    public const string NotNormalizationParameter = "not a weight or bias of a normalization layer";

    // ---- embeddings ----

    public static string EmbeddingScaled(long dim) => $"Embedding: scaled N(0, 1/d), d = {dim}, so each embedded vector has norm ≈ 1";
    public const string EmbeddingDefault = "Embedding: PyTorch's default N(0, 1): a row is looked up, not summed over a fan";
    public static string EmbeddingScaledScheme(long dim) => $"Normal(0, 1/√{dim})";
    public const string NotEmbeddingWeight = "not a weight of an Embedding";
    public static string PaddingRowNote(long row) => $"row {row} kept at 0 (it was the only all-zero row: padding_idx)";
    public static string PaddingRowReason(long row) => $"row {row} kept at 0 (padding_idx)";
    public static string TiedEmbedding(string layerWeight, string layerType, string detail, string why, string gainNote) =>
        $"tied with '{layerWeight}' ({layerType}), one tensor in two roles: decided by its role as that layer's weight " +
        $"({detail}; {why}{gainNote}), so the initial logits are small; as an embedding its rows are drawn from the same scheme, not N(0, 1)";
    public static string TiedEmbeddingNote(string layerWeight) => $"tied: also '{layerWeight}'";
    public static string EmbeddingBagScaled(long dim) => $"EmbeddingBag: scaled N(0, 1/d), d = {dim}, so each looked-up row has norm ≈ 1 (a bag sums or averages them)";
    public const string EmbeddingBagDefault = "EmbeddingBag: PyTorch's default N(0, 1): rows are looked up and summed or averaged per bag, not summed over a fan";
    public const string NotEmbeddingBagWeight = "not a weight of an EmbeddingBag";

    // ---- recurrent ----

    public static string GatesAreSigmoids(string type, string gates) => $"{type} gates ({gates}) are sigmoids (the candidate's tanh shares the layout)";
    public static string RecurrentHint(string hint, string activation) => $"{hint} says the cell's nonlinearity is {activation}";
    public const string RecurrentAssumed = "TorchSharp does not expose an RNN's nonlinearity: tanh (PyTorch's default) assumed; a hint with Activation.Relu says otherwise";
    public static string InputToHidden(string why, string schemeWhy, string gainNote) => $"input-to-hidden, per gate: {why}; {schemeWhy}{gainNote}";
    public static string HiddenToHidden(long hidden, string scheme) =>
        $"hidden-to-hidden, per gate [{hidden}, {hidden}] block: {scheme} keeps the recurrent map's singular values at the gain, " +
        "so repeated steps neither explode nor vanish (Saxe et al. 2013)";
    public static string ForgetGateScheme(double forget) => $"zeros, forget gate {Num(forget)}";
    public static string ForgetGateNote(long hidden, double forget) => $"elements [{hidden}, {2 * hidden}) (forget gate) = {Num(forget)}";
    public static string ForgetGate(double forget) =>
        $"bias 0, forget gate {Num(forget)} in bias_ih only (bias_hh stays 0, so b_ih + b_hh = {Num(forget)}): the cell remembers by default (Jozefowicz et al. 2015)";
    public const string RecurrentBias = "recurrent bias: 0";
    public const string NotRecurrentParameter = "not a weight or bias of a recurrent layer";

    // ---- attention and transformer parts ----

    public static string AttentionAuto(string why, string gainNote) => $"q, k and v each feed the attention scores' dot product, no activation: {why}{gainNote}";
    public static string AttentionInProjection(string name) =>
        $"PyTorch's MultiheadAttention._reset_parameters: xavier_uniform_ on {(name == "in_proj_weight" ? "the whole stacked [3·d, d] tensor" : name)}";
    public const string AttentionInBias = "PyTorch's MultiheadAttention._reset_parameters: in_proj_bias 0";
    public static string AttentionKeyValueBias(string name) => $"{name}: PyTorch's rule, xavier_normal_ (MultiheadAttention._reset_parameters), whatever the policy";
    public const string NotAttentionParameter = "not a parameter of a MultiheadAttention TorchInit knows";
    public const string TransformerMatrices = "PyTorch's Transformer._reset_parameters: xavier_uniform_ on every matrix";
    public const string AttentionOutProjection = "PyTorch's MultiheadAttention: out_proj is a Linear (kaiming_uniform_(a=√5)), its bias 0 (_reset_parameters)";
    public const string LinearDefault = "PyTorch's default Linear init";
    public const string TransformerOutProjectionBias = "; out_proj.bias 0 (MultiheadAttention._reset_parameters)";
    public static string PartHint(string hint, string activation) => $"{hint} says {activation} follows";
    public static string FeedForwardAssumed(string? layerType, string? layerPath, string path) =>
        $"TorchSharp 0.107 does not expose the activation of {layerType ?? "the layer"} '{layerPath}': relu (the default of PyTorch and TorchSharp) assumed; " +
        $"Hint(\"{path}\", Activation.Gelu) or Hint<{layerType ?? "TransformerEncoderLayer"}>(Activation.Gelu) says otherwise";
    public const string AttentionOutput = "the attention's output projection feeds the residual sum, no activation";
    public const string FeedForwardOutput = "the feed-forward output projection feeds the residual sum, no activation";
    public const string OtherProjection = "a projection inside a transformer layer, no activation";
    public static string Part(string detail, string why, string gainNote) => $"{detail}; {why}{gainNote}";

    // ---- activations, declarations ----

    public const string ActivationParameterNote = "activation parameter, left as constructed";
    public const string ActivationParameter = "an activation's own parameter (PReLU slope): left at its constructor value";
    public static string DeclaredBy(string type) => $"{type}.DeclareInit";
    public static string Declared(string by, string reason) => $"{by}: {reason}";
    public static string KeptBy(string by) => $"kept by {by}";
    public static string NotDeclared(string type) => $"not declared by {type}.DeclareInit";

    // ---- construction replay ----

    public static string Constructed(string type) => $"as constructed: PyTorch's {type} constructor (reset_parameters), replayed in construction order";
    public static string ConstructedByDeclaration(string declared) => $"as constructed: {declared} (its declaration, replayed as its constructor's, before its children)";
    public static string ConstructionLoop(string loop, string scheme) => $"{loop}, right after the block is constructed: {scheme}";
    public static string SubModelInit(string rule, string path, string scheme) =>
        $"{rule}: '{path}' is a model of its own, initialized by its post_init right after it is constructed: {scheme}";
    public static string TiedConstructed(string first) =>
        $"tied to {first}: its own constructor's draws are made and discarded (PyTorch ties after construction), the shared storage keeps {first}'s";
    public const string ConstructedOutProjection = "as constructed: MultiheadAttention builds its out_proj Linear first (kaiming_uniform_(a=√5), bias U(±1/√d)), before _reset_parameters";
    public const string AttentionOutBiasZeroed = "as constructed: MultiheadAttention._reset_parameters sets out_proj.bias to 0 after the Linear drew it";
    public static string NotReplayed(IEnumerable<string> modules) =>
        $"ReplaysConstruction: the constructors of {string.Join(", ", modules)} are not known to TorchInit, so their draws are not replayed " +
        "and are kept as they are; if they draw random numbers, every draw after them differs from PyTorch's construction";
    public static string FrozenNotReplayed(IEnumerable<string> parameters) =>
        $"ReplaysConstruction: frozen {string.Join(", ", parameters)} kept (IncludeFrozen is false), so their constructor draws are not replayed " +
        "and every draw after them differs from PyTorch's construction";

    // ---- policy warnings ----

    public static string FusedProjection(string parameter, long d, string scheme, double whole, string path, double perBlock) =>
        $"'{parameter}' [{3 * d}, {d}] looks like a fused q, k, v projection; it was drawn as one matrix by {scheme} (std {Num4(whole)}). " +
        $"If it is q, k and v stacked, StackedBlocks(\"{path}\", 3) draws each [{d}, {d}] block with its own fans (std {Num4(perBlock)})";
    public static string MatchesNothing(string rule, string paths) => $"{rule} matches no module of this model (paths and globs are case-sensitive: {paths})";
    public static string PresetExpects(string preset, string what) => $"{preset} expects {what}";
    public static string NotOfPresetFamily(string expectation, string paths) =>
        $"{expectation}, and this model has none, so it is likely not of the preset's family and would not get that model's init ({paths})";
    public static string MatchesNoParameters(string rule, string modules) =>
        $"{rule} matches only modules without parameters of their own ({modules}), so it writes nothing: a rule names the layers themselves (a glob such as \"head.*\" reaches the layers inside a container)";
    public static string HintOnNonLayers(string hint, string modules) =>
        $"{hint} matches only modules that are not layers ({modules}): a hint names the layer an activation follows";
    public static string Paths(IReadOnlyList<string> paths) =>
        paths.Count == 0 ? "it has no submodules" : "its modules are " + string.Join(", ", paths.Take(12)) + (paths.Count > 12 ? ", …" : "");
}
