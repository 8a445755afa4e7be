using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// μP's training side (Yang et al. 2022, "Tensor Programs V", Tables 3 and 8): each parameter's class and learning-rate multipliers,
/// TorchSharp's Adam, AdamW and SGD with one parameter group per multiplier, and μP's attention scaling 1/d_head. The
/// initialization side is <see cref="InitPolicy.MuP"/>.
/// </summary>
/// <example>
/// <code>
/// var shapes = MuBaseShapes.FromFactory(w =&gt; Mlp(w), baseWidth: 128, deltaWidth: 256);
/// var model = Mlp(2048);
/// model.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes));
/// var optimizer = MuP.Adam(model, shapes, lr: 1e-3);   // instead of torch.optim.Adam(model.parameters(), 1e-3)
/// </code>
/// </example>
public static class MuP
{
    /// <summary>
    /// Every distinct parameter of <paramref name="model"/> (tied ones once, by their first holder), in pre-order, with its μP class,
    /// multipliers m_in and m_out, width multiplier and learning-rate multipliers (see <see cref="MuParameter"/>).
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The model does not match the base shapes (see <see cref="InitPolicy.MuP"/>).</exception>
    public static IReadOnlyList<MuParameter> Parameters(nn.Module model, MuBaseShapes shapes) =>
        MuModel.Read(model, shapes).Parameters.Select(p => p.Info).ToList();

    /// <summary>
    /// TorchSharp's Adam with μP's learning rates: each trainable parameter at lr × <see cref="MuParameter.AdamLearningRate"/>
    /// (lr/m_in for hidden and plain output weights, lr otherwise), one group per distinct multiplier; the other arguments as
    /// <c>torch.optim.Adam</c>'s, weight decay (L2, added to the gradient) unscaled.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The model does not match the base shapes, a hyperparameter is out of range, or no parameter is trainable.</exception>
    public static TorchSharp.Modules.Adam Adam(nn.Module model, MuBaseShapes shapes, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 0, bool amsgrad = false)
    {
        CheckOptimizer(lr, weightDecay);
        var groups = Groups(model, shapes, p => p.AdamLearningRate)
            .Select(g => new TorchSharp.Modules.Adam.ParamGroup(g.Parameters, lr * g.Multiplier, beta1, beta2, eps, weightDecay, amsgrad, false)).ToList();
        return optim.Adam(groups, lr, beta1, beta2, eps, weightDecay, amsgrad);
    }

    /// <summary>
    /// TorchSharp's AdamW with μP's learning rates and weight decays: each trainable parameter at lr × <see cref="MuParameter.AdamLearningRate"/>
    /// and weight decay λ × <see cref="MuParameter.AdamWWeightDecay"/> (so the decay per step, lr·λ, is the base model's), one group per
    /// distinct pair.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The model does not match the base shapes, a hyperparameter is out of range, or no parameter is trainable.</exception>
    public static TorchSharp.Modules.AdamW AdamW(nn.Module model, MuBaseShapes shapes, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weightDecay = 0.01, bool amsgrad = false)
    {
        CheckOptimizer(lr, weightDecay);
        var groups = Groups(model, shapes, p => p.AdamLearningRate)
            .Select(g => new TorchSharp.Modules.AdamW.ParamGroup(g.Parameters, lr * g.Multiplier, beta1, beta2, eps, weightDecay / g.Multiplier, amsgrad, false)).ToList();
        return optim.AdamW(groups, lr, beta1, beta2, eps, weightDecay, amsgrad);
    }

    /// <summary>
    /// TorchSharp's SGD with μP's learning rates: each trainable parameter at lr × <see cref="MuParameter.SgdLearningRate"/> (m_out for
    /// input and vector-like parameters, m_out/m_in hidden, 1/m_in plain output, m_in a <see cref="MuReadout"/>'s weight), one group per
    /// distinct multiplier; momentum, dampening, weight decay and Nesterov as <c>torch.optim.SGD</c>'s.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The model does not match the base shapes, a hyperparameter is out of range, or no parameter is trainable.</exception>
    public static TorchSharp.Modules.SGD SGD(nn.Module model, MuBaseShapes shapes, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
    {
        CheckOptimizer(lr, weightDecay);
        Check.FiniteNonNegative(momentum, nameof(momentum));
        var groups = Groups(model, shapes, p => p.SgdLearningRate)
            .Select(g => new TorchSharp.Modules.SGD.ParamGroup(g.Parameters, lr * g.Multiplier, momentum, dampening, weightDecay, nesterov, false)).ToList();
        return optim.SGD(groups, lr, momentum, dampening, weightDecay, nesterov);
    }

    /// <summary>μP's attention-logit scale: α/d_head (instead of 1/√d_head), so logits keep their size as d_head grows.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="headDim"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="multiplier"/> is not finite.</exception>
    public static double AttentionScale(long headDim, double multiplier = 1)
    {
        if (headDim <= 0) throw new ArgumentOutOfRangeException(nameof(headDim), $"headDim must be positive; got {headDim}.");
        Check.Finite(multiplier, nameof(multiplier));
        return multiplier / headDim;
    }

    /// <summary>
    /// Attention with μP's scale: softmax(α·q·kᵀ/d_head + mask)·v, d_head = q's last dimension, computed by TorchSharp's
    /// <c>scaled_dot_product_attention</c> on q·α/√d_head (its own scale is 1/√d_head and cannot be set in TorchSharp 0.107).
    /// </summary>
    /// <param name="query">[…, L, d_head].</param>
    /// <param name="key">[…, S, d_head].</param>
    /// <param name="value">[…, S, d_v].</param>
    /// <param name="mask">An additive float mask or a boolean mask (true: attend), broadcastable to […, L, S]; null for none.</param>
    /// <param name="isCausal">Whether position i attends only to positions ≤ i.</param>
    /// <param name="multiplier">α (default 1; √d_head of the base model makes the base model's logits SP's).</param>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? mask = null, bool isCausal = false, double multiplier = 1)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (query.dim() == 0) throw new ArgumentException("The query needs a last (head) dimension.", nameof(query));
        long d = query.shape[^1];
        using var scaled = query.mul(AttentionScale(d, multiplier) * Math.Sqrt(d));
        return nn.functional.scaled_dot_product_attention(scaled, key, value, mask, 0.0, isCausal);
    }

    private static void CheckOptimizer(double lr, double weightDecay)
    {
        Check.FiniteNonNegative(lr, nameof(lr));
        Check.FiniteNonNegative(weightDecay, nameof(weightDecay));
    }

    /// <summary>The trainable parameters grouped by their multiplier, in pre-order of each group's first parameter.</summary>
    private static List<(double Multiplier, List<Parameter> Parameters)> Groups(nn.Module model, MuBaseShapes shapes, Func<MuParameter, double> multiplier)
    {
        var groups = new List<(double Multiplier, List<Parameter> Parameters)>();
        foreach (var (info, p, _) in MuModel.Read(model, shapes).Parameters)
        {
            if (!p.requires_grad) continue;
            double m = multiplier(info);
            int i = groups.FindIndex(g => g.Multiplier == m);
            if (i < 0) groups.Add((m, [p]));
            else groups[i].Parameters.Add(p);
        }
        if (groups.Count == 0) throw new ArgumentException("μP optimizer: the model has no trainable parameter (requires_grad).", nameof(model));
        return groups;
    }
}
