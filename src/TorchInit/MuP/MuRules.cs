using TorchInit.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// A parameter's class under μP (Yang et al. 2022, "Tensor Programs V", Table 3), from which of its fan-in and fan-out dimensions
/// grow with width (<see cref="MuBaseShapes"/>).
/// </summary>
public enum MuClass
{
    /// <summary>Finite fan-in, infinite fan-out (the first Linear, an Embedding, a patch convolution): std σ₀; Adam lr η, SGD lr η·m_out.</summary>
    Input,
    /// <summary>Infinite fan-in and fan-out (layers between hidden layers, attention projections): std σ₀/√m_in; Adam lr η/m_in, SGD lr η·m_out/m_in.</summary>
    Hidden,
    /// <summary>Infinite fan-in, finite fan-out (the readout): std σ₀/m_in, Adam and SGD lr η/m_in; for a <see cref="MuReadout"/> std σ₀, Adam lr η, SGD lr η·m_in.</summary>
    Output,
    /// <summary>No fan-in dimension, an infinite fan-out (biases, normalization weights): std σ₀; Adam lr η, SGD lr η·m_out.</summary>
    VectorLike,
    /// <summary>No dimension grows with width: std σ₀ (the scheme's std at the base shape: σ itself unless the rule reads a growing fan, as PyTorch's default bias of a readout does), every learning rate η.</summary>
    Finite,
}

/// <summary>A dimension's role in a parameter's layout for μP: part of the fan-in, of the fan-out, or neither (a kernel dimension).</summary>
internal enum WidthRole { None, FanIn, FanOut }

/// <summary>
/// One parameter under μP: its class, its fan-in and fan-out multipliers m_in = ∏ n/n₀ over its fan-in dimensions and m_out
/// over its fan-out dimensions, its width multiplier (m_in for hidden and output parameters, m_out for input and vector-like
/// ones, 1 for finite ones), and the multipliers of the base learning rate (Adam/AdamW, SGD) and of AdamW's weight decay.
/// </summary>
/// <param name="Name">The qualified name, as the report names it.</param>
/// <param name="Class">Its μP class.</param>
/// <param name="Shape">Its shape in the model.</param>
/// <param name="BaseShape">Its shape in the base model.</param>
/// <param name="FanInMultiplier">m_in = ∏ n/n₀ over the fan-in dimensions (1 when none).</param>
/// <param name="FanOutMultiplier">m_out = ∏ n/n₀ over the fan-out dimensions (1 when none).</param>
/// <param name="WidthMultiplier">m: m_in (hidden, output), m_out (input, vector-like), 1 (finite).</param>
/// <param name="IsReadout">Whether it is the weight of a <see cref="MuReadout"/> (Table 8's output weight).</param>
/// <param name="AdamLearningRate">The Adam/AdamW learning rate as a multiple of η: 1/m_in (hidden, plain output), else 1.</param>
/// <param name="SgdLearningRate">The SGD learning rate as a multiple of η: m_out (input, vector-like), m_out/m_in (hidden), 1/m_in (plain output), m_in (readout), 1 (finite).</param>
/// <param name="AdamWWeightDecay">AdamW's weight decay as a multiple of λ: 1/<paramref name="AdamLearningRate"/>, so lr·λ is the base model's.</param>
public sealed record MuParameter(string Name, MuClass Class, long[] Shape, long[] BaseShape, double FanInMultiplier,
    double FanOutMultiplier, double WidthMultiplier, bool IsReadout, double AdamLearningRate, double SgdLearningRate, double AdamWWeightDecay)
{
    /// <summary>
    /// The μP std as a multiple of σ₀ (the scheme's std at the base shape): 1/√m_in (hidden), 1/m_in (a plain output layer), 1
    /// otherwise (a <see cref="MuReadout"/>'s forward divides by m_in instead).
    /// </summary>
    public double InitStdFactor => MuRules.InitStdFactor(Class, IsReadout, FanInMultiplier);
}

/// <summary>
/// μP's rules in one place: a parameter's class from its layout and base shape, and the table of its init std and learning-rate
/// multipliers (Tensor Programs V, Tables 3 and 8).
/// </summary>
internal static class MuRules
{
    /// <summary>μP std / σ₀ (see <see cref="MuParameter.InitStdFactor"/>).</summary>
    public static double InitStdFactor(MuClass cls, bool readout, double mIn) => cls switch
    {
        MuClass.Hidden => 1 / Math.Sqrt(mIn),
        MuClass.Output when !readout => 1 / mIn,
        _ => 1,
    };

    /// <summary>The Adam learning-rate multiplier.</summary>
    public static double Adam(MuClass cls, bool readout, double mIn) => cls switch
    {
        MuClass.Hidden => 1 / mIn,
        MuClass.Output when !readout => 1 / mIn,
        _ => 1,
    };

    /// <summary>The SGD learning-rate multiplier.</summary>
    public static double Sgd(MuClass cls, bool readout, double mIn, double mOut) => cls switch
    {
        MuClass.Input or MuClass.VectorLike => mOut,
        MuClass.Hidden => mOut / mIn,
        MuClass.Output => readout ? mIn : 1 / mIn,
        _ => 1,
    };

    /// <summary>The class of a parameter whose layout is <paramref name="roles"/> and whose dimensions' growth is <paramref name="infinite"/>.</summary>
    public static MuClass Classify(IReadOnlyList<WidthRole> roles, IReadOnlyList<bool> infinite)
    {
        bool hasIn = false, inInf = false, outInf = false;
        for (int i = 0; i < roles.Count; i++)
        {
            if (roles[i] == WidthRole.FanIn) { hasIn = true; inInf |= infinite[i]; }
            else if (roles[i] == WidthRole.FanOut) outInf |= infinite[i];
        }
        return (hasIn, inInf, outInf) switch
        {
            (_, true, true) => MuClass.Hidden,
            (_, true, false) => MuClass.Output,
            (true, false, true) => MuClass.Input,
            (false, false, true) => MuClass.VectorLike,
            _ => MuClass.Finite,
        };
    }

    /// <summary>The default layout (PyTorch's fan rule): dimension 0 fan-out, dimension 1 fan-in, the rest neither; a vector is fan-out.</summary>
    public static WidthRole[] DefaultRoles(int rank) => rank switch
    {
        0 => [],
        1 => [WidthRole.FanOut],
        _ => [WidthRole.FanOut, WidthRole.FanIn, .. Enumerable.Repeat(WidthRole.None, rank - 2)],
    };

    /// <summary>Every dimension fan-out (biases and normalization parameters of any rank).</summary>
    public static WidthRole[] AllFanOut(int rank) => Enumerable.Repeat(WidthRole.FanOut, rank).ToArray();

    /// <summary>One parameter's μP entry, given its layout, shape and base shape.</summary>
    public static MuParameter Describe(string name, IReadOnlyList<WidthRole> roles, long[] shape, MuBaseShape b, bool readout)
    {
        var cls = Classify(roles, b.Infinite);
        double mIn = 1, mOut = 1;
        for (int i = 0; i < roles.Count; i++)
        {
            double ratio = b.BaseShape[i] == 0 ? 1 : (double)shape[i] / b.BaseShape[i];
            if (roles[i] == WidthRole.FanIn) mIn *= ratio;
            else if (roles[i] == WidthRole.FanOut) mOut *= ratio;
        }
        readout &= cls == MuClass.Output;
        double width = cls switch { MuClass.Hidden or MuClass.Output => mIn, MuClass.Input or MuClass.VectorLike => mOut, _ => 1 };
        double adam = Adam(cls, readout, mIn);
        return new MuParameter(name, cls, shape, b.BaseShape.ToArray(), mIn, mOut, width, readout, adam, Sgd(cls, readout, mIn, mOut), 1 / adam);
    }
}

/// <summary>A model read against its base shapes: each distinct parameter (tied ones once, by their first holder) with its μP entry.</summary>
internal sealed class MuModel
{
    private MuModel(List<(MuParameter Info, TorchSharp.Modules.Parameter Parameter, ModuleContext Holder)> parameters,
        Dictionary<string, MuParameter> byName, Dictionary<string, long> queryRows, List<string> warnings)
    {
        Parameters = parameters;
        ByName = byName;
        QueryRows = queryRows;
        Warnings = warnings;
    }

    /// <summary>Parameters holding an attention's query projection in their leading rows (<see cref="LayerFamily.QueryRows"/>): name to row count.</summary>
    public IReadOnlyDictionary<string, long> QueryRows { get; }

    /// <summary>The distinct parameters in pre-order, with the module that holds each first.</summary>
    public IReadOnlyList<(MuParameter Info, TorchSharp.Modules.Parameter Parameter, ModuleContext Holder)> Parameters { get; }
    /// <summary>Every qualified name (tied holders too) to its parameter's entry.</summary>
    public IReadOnlyDictionary<string, MuParameter> ByName { get; }
    /// <summary>Tied plain readouts: a weight read out without μP's output multiplier.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Checks <paramref name="model"/> against <paramref name="shapes"/> (throws naming every problem) and classifies its parameters.</summary>
    public static MuModel Read(nn.Module model, MuBaseShapes shapes)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Read(ModuleContext.Build(model), shapes);
    }

    /// <summary>As <see cref="Read(nn.Module, MuBaseShapes)"/>, on a tree already built (the planner's).</summary>
    public static MuModel Read(ModuleContext root, MuBaseShapes shapes)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        shapes.Check(root);
        var list = new List<(MuParameter, TorchSharp.Modules.Parameter, ModuleContext)>();
        var byName = new Dictionary<string, MuParameter>(StringComparer.Ordinal);
        var byStorage = new Dictionary<object, MuParameter>();
        var warnings = new List<string>();
        var queryRows = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var c in root.PreOrder().Where(c => !c.IsShared))
        {
            var family = LayerTaxonomy.Of(c).Family;
            foreach (var (name, p) in c.OwnParameters())
            {
                var q = PlanText.Qualified(c.Path, name);
                if (byName.ContainsKey(q)) continue;
                var key = PlanBuilder.StorageKey(p);
                var own = MuRules.Describe(q, family.WidthRoles(c, name, (int)p.dim()), p.shape, shapes[q], c.Module is MuReadout && name == "weight");
                if (byStorage.TryGetValue(key, out var first))
                {
                    byName[q] = first;
                    if (own.Class == MuClass.Output && c.Module is not MuSharedReadout && first.Class != MuClass.Output)
                        warnings.Add(MuText.TiedPlainReadout(q, first.Name, first.Class));
                    continue;
                }
                byStorage.Add(key, own);
                byName[q] = own;
                if (family.QueryRows(c, name, p.shape) is long rows) queryRows[q] = rows;
                list.Add((own, p, c));
            }
        }
        return new MuModel(list, byName, queryRows, warnings);
    }
}
