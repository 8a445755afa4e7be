using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// RNN, LSTM, GRU and their cells: <c>weight_ih_l{k}</c> [gates·hidden, in] and <c>weight_hh_l{k}</c> [gates·hidden, hidden], gate
/// blocks stacked along dimension 0 (LSTM 4: i, f, g, o; GRU 3: r, z, n; RNN 1), and their biases. PyTorch's default
/// (<c>RNNBase.reset_parameters</c>): every weight and bias U(±1/√hidden). Auto: input-to-hidden per gate by the gates' activation,
/// hidden-to-hidden per gate orthogonal (<see cref="InitPolicy.HiddenToHiddenScheme"/>), biases 0, an LSTM's forget gate
/// <see cref="InitPolicy.LstmForgetGateBias"/>. TorchSharp's recurrent modules have no parameter setters, so <see cref="Build"/> cannot make them.
/// </summary>
internal sealed class RecurrentFamily : LayerFamily
{
    public override LayerKind? KindOf(nn.Module module) =>
        module is RNN or LSTM or GRU or RNNCell or LSTMCell or GRUCell ? LayerKind.Recurrent : null;
    public override bool TakesAuto => true;

    private static bool IsWeightIh(string name) => name.StartsWith("weight_ih", StringComparison.Ordinal);
    private static bool IsWeightHh(string name) => name.StartsWith("weight_hh", StringComparison.Ordinal);

    /// <summary>RNNBase.reset_parameters: U(±1/√hidden) for every weight and bias, hidden = weight_hh's size(1) (0: all zeros); null without a 2-D weight_hh.</summary>
    public override Fill? TorchDefault(nn.Module module, string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        if (!name.StartsWith("weight_", StringComparison.Ordinal) && !name.StartsWith("bias_", StringComparison.Ordinal)) return null;
        var hh = tensors.FirstOrDefault(t => IsWeightHh(t.Key)).Value;
        if (hh is null || hh.dim() != 2) return null;
        double bound = hh.shape[1] > 0 ? 1 / Math.Sqrt(hh.shape[1]) : 0;
        return new UniformFill(-bound, bound) { ExactStd = bound / Math.Sqrt(3.0) };
    }

    public override void PlanTorchDefault(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? why) =>
        b.ModuleDefault(c, this, own, why);

    public override double PlanAuto(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var hh = own.FirstOrDefault(p => IsWeightHh(p.Name)).Tensor;
        var ih = own.FirstOrDefault(p => IsWeightIh(p.Name)).Tensor;
        if (hh is null || ih is null || hh.dim() != 2)
        {
            b.Unhandled(c, own);
            return double.NaN;
        }
        long hidden = hh.shape[1];
        int gates = (int)(ih.shape[0] / hidden);
        bool lstm = c.Module is LSTM or LSTMCell, gru = c.Module is GRU or GRUCell;
        string gateNames = lstm ? "i, f, g, o" : gru ? "r, z, n" : "";

        Activation activation;
        ActivationSource source;
        string why;
        if (lstm || gru)
            (activation, source, why) = (Activation.Sigmoid, ActivationSource.Intrinsic, PlanText.GatesAreSigmoids(c.TypeName, gateNames));
        else if (b.Policy.HintFor(c) is { } hint)
            (activation, source, why) = (hint.Value, ActivationSource.Hint, PlanText.RecurrentHint(hint.Description, hint.Value.Name));
        else
            (activation, source, why) = (Activation.Tanh, ActivationSource.Assumed, PlanText.RecurrentAssumed);
        var (inputScheme, inputWhy, _) = b.Policy.Choose(activation);
        var recurrent = b.Policy.HiddenToHiddenScheme;
        var forget = b.Policy.LstmForgetGateBias;
        foreach (var (name, p) in own)
        {
            PlannedParameter entry;
            string? reason;
            if (IsWeightIh(name))
            {
                entry = b.Blocks(c, name, p, inputScheme, gates);
                reason = PlanText.InputToHidden(why, inputWhy, b.GainOverrideNote(inputScheme));
            }
            else if (IsWeightHh(name))
            {
                entry = b.Blocks(c, name, p, recurrent, gates);
                reason = PlanText.HiddenToHidden(hidden, recurrent.Name);
            }
            else if (lstm && forget != 0 && name.StartsWith("bias_ih", StringComparison.Ordinal) && p.shape[0] == 4 * hidden)
            {
                entry = b.Constant(c, name, p, new ConstantFill(0.0, (hidden, hidden, forget)), PlanText.ForgetGateScheme(forget), PlanText.ForgetGateNote(hidden, forget));
                reason = PlanText.ForgetGate(forget);
            }
            else if (name.StartsWith("bias", StringComparison.Ordinal))
            {
                entry = b.Constant(c, name, p, new ConstantFill(0.0), "zeros");
                reason = PlanText.RecurrentBias;
            }
            else
            {
                entry = PlanBuilder.Row(c, name, p, "", InitAction.Skipped, PlanText.NotRecurrentParameter);
                reason = null;
            }
            b.Add(entry with { Activation = activation.Name, Source = source, Reason = reason is null ? null : new DecisionReason(reason) });
        }
        return b.GainOf(inputScheme);
    }
}
