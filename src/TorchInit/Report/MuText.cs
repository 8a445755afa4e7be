using System.Globalization;

namespace TorchInit;

/// <summary>Every text μP puts in a report, a warning or an exception, made in one place.</summary>
internal static class MuText
{
    private static string Num(double x) => x.ToString("0.####", CultureInfo.InvariantCulture);

    public static string Shape(IEnumerable<long> shape) => $"[{string.Join(", ", shape)}]";

    public static string ClassName(MuClass c) => c switch
    {
        MuClass.Input => "input",
        MuClass.Hidden => "hidden",
        MuClass.Output => "output",
        MuClass.VectorLike => "vector-like",
        _ => "finite",
    };

    /// <summary>The reason a row gets: its class, why, and the scale.</summary>
    public static string Reason(MuParameter p, double scale)
    {
        string rule = p.Class switch
        {
            MuClass.Hidden => $"μP hidden weight (fan-in and fan-out grow, m_in = {Num(p.FanInMultiplier)}): std σ₀/√m_in",
            MuClass.Output when p.IsReadout => $"μP readout (fan-in grows, m_in = {Num(p.FanInMultiplier)}): std σ₀, its forward multiplies by α/m_in",
            MuClass.Output => $"μP output weight (fan-in grows, m_in = {Num(p.FanInMultiplier)}, fan-out finite): std σ₀/m_in (variance ∝ 1/fan_in²)",
            MuClass.Input => $"μP input weight (fan-in finite, fan-out grows, m_out = {Num(p.FanOutMultiplier)}): std σ₀",
            MuClass.VectorLike => $"μP vector-like (fan-out grows, m_out = {Num(p.FanOutMultiplier)}): std σ₀",
            _ => "μP finite (no dimension grows): std σ₀",
        };
        return $"{rule}, σ₀ the scheme's std at the base shape {Shape(p.BaseShape)}: scale {Num(scale)}";
    }

    public static string Note(MuParameter p, double scale) => $"μP {ClassName(p.Class)}, m = {Num(p.WidthMultiplier)}, scale {Num(scale)}";

    public const string ZeroReadout = "μP: output weight zero-initialized (MuOptions.ZeroReadout)";
    public const string LsuvStart =
        "LSUV with a μP start: LSUV rescales every layer to a fixed output variance, which undoes μP's width scaling of hidden and output layers; initialize with the μP policy alone (ApplyInit), or LSUV from a standard one.";
    public const string ZeroQuery = "μP: query projection zero-initialized (MuOptions.ZeroQueries, QueryLayers)";
    public static string ZeroQueryBlock(long rows) => $"query block (rows 0–{rows - 1}) zero (MuOptions.ZeroQueries)";

    public static string NoInfinite(int count) =>
        $"μP base shapes: none of the {count} parameters has a dimension that grows with width (the base and delta models have the same shapes). " +
        "Build the delta model at another width, e.g. MuBaseShapes.FromFactory(w => Model(w), baseWidth: 64, deltaWidth: 128).";

    public static string DifferentParameters(string a, string b, IReadOnlyList<string> missing, IReadOnlyList<string> extra)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"the {b} lacks {List(missing)}");
        if (extra.Count > 0) parts.Add($"the {b} has {List(extra)}, which the {a} does not");
        return $"μP: the {a} and the {b} are not the same architecture ({string.Join("; ", parts)}): another depth or another layer type. " +
               "Base, delta and target must differ only in width.";
    }

    private static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(6).Select(n => $"'{n}'")) + (names.Count > 6 ? $" and {names.Count - 6} more" : "");

    public static string DifferentRank(string name, string a, IEnumerable<long> shapeA, string b, IEnumerable<long> shapeB) =>
        $"μP: '{name}' is {Shape(shapeA)} in the {a} and {Shape(shapeB)} in the {b}: another number of dimensions, so not the same architecture.";

    public static string DeltaShrinks(string name, IEnumerable<long> baseShape, IEnumerable<long> delta, int dim) =>
        $"μP: '{name}' shrinks from the base {Shape(baseShape)} to the delta {Shape(delta)} in dimension {dim}: the delta model must be wider than the base, never narrower.";

    public static string FiniteChanged(string name, IEnumerable<long> baseShape, IEnumerable<long> shape, int dim) =>
        $"μP: '{name}' is {Shape(shape)}, but its dimension {dim} does not grow with width in the base shapes ({Shape(baseShape)}): a finite dimension of another size is another architecture.";

    public static string TargetShrinks(string name, IEnumerable<long> baseShape, IEnumerable<long> shape, int dim) =>
        $"μP: '{name}' is {Shape(shape)}, narrower than its base {Shape(baseShape)} in dimension {dim}: μP models are at least as wide as their base.";

    public static string NoBaseStd(string name, string scheme, string distribution) =>
        $"μP: '{name}' is drawn by {scheme} ({distribution}), which gives it no std at its base shape to scale from; use a normal, uniform, truncated-normal or variance-scaling scheme for it (an override).";

    public static string NoStd(string name, string scheme, string distribution, MuClass cls) =>
        $"μP: '{name}' is written by {scheme} ({distribution}), which has no std for μP to set on a μP {ClassName(cls)} parameter; " +
        "use a normal, uniform, truncated-normal or variance-scaling scheme for it (an override).";

    public static string ZeroInfinite(string name, IEnumerable<long> baseShape, int dim) =>
        $"μP base shapes: '{name}' has base size 0 in dimension {dim}, which grows with width ({Shape(baseShape)}): a width multiplier n/n₀ needs n₀ > 0.";

    public static string CannotScale(string name, string scheme, string distribution) =>
        $"μP: '{name}' is drawn by {scheme} ({distribution}), whose values cannot be scaled to μP's std; use a normal, uniform, truncated-normal or variance-scaling scheme for it (an override).";

    public static string TiedPlainReadout(string name, string first, MuClass firstClass) =>
        $"μP: '{name}' reads out through '{first}' (tied; a μP {ClassName(firstClass)} parameter, initialized and trained as one) but its module is a plain layer, " +
        "without μP's output multiplier 1/m_in: use MuSharedReadout for a tied readout.";

    public static string ReadoutWithoutMultiplier(string name) =>
        $"{name}: the μP width multiplier m_in is not known yet: apply a μP policy first (model.ApplyInit(policy.MuP(shapes))) or give baseInFeatures.";

    public static string ReadoutMultiplierDiffers(string path, double given, double fromShapes) =>
        $"μP: the readout '{path}' was built with width multiplier {Num(given)} (baseInFeatures), but the base shapes give {Num(fromShapes)}.";
}
