using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>
/// The models of the μP twin (scripts/twins/mup.py), module for module and name for name: an MLP with a plain or a μP readout
/// head, and a small pre-LayerNorm transformer language model with its own causal attention and a tied or untied readout. The
/// widths are the constructor's; everything else is fixed by the twin's configuration.
/// </summary>
public static class MupTwinModels
{
    /// <summary>
    /// fc1 Linear(dIn, width), relu1, fc2 Linear(width, width), relu2, head: a plain Linear(width, classes) or, with
    /// <paramref name="readoutMultiplier"/>, a <see cref="MuReadout"/> (forward linear(x·α/m_in, W, b)).
    /// </summary>
    public static Sequential Mlp(long dIn, long width, long classes, double? readoutMultiplier) => nn.Sequential(
        ("fc1", nn.Linear(dIn, width)), ("relu1", nn.ReLU()),
        ("fc2", nn.Linear(width, width)), ("relu2", nn.ReLU()),
        ("head", readoutMultiplier is double a ? new MuReadout(width, classes, hasBias: true, outputMultiplier: a) : nn.Linear(width, classes)));
}

/// <summary>The μP twin's causal self-attention: q, k (no bias), v, o Linear d→d, heads of d / nHead; logits α·q·kᵀ/d_head (μP) or q·kᵀ/√d_head (SP).</summary>
public sealed class MupTwinAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear q, k, v, o;
    private readonly long _heads, _headDim;
    private readonly bool _mup;
    private readonly double _multiplier;

    /// <summary>An attention layer of width <paramref name="d"/>.</summary>
    public MupTwinAttention(long d, long nHead, bool mup, double multiplier) : base("Attention")
    {
        q = nn.Linear(d, d);
        k = nn.Linear(d, d, hasBias: false);   // a key bias gets no gradient (softmax is shift-invariant): Adam would amplify rounding noise
        v = nn.Linear(d, d);
        o = nn.Linear(d, d);
        _heads = nHead;
        _headDim = d / nHead;
        _mup = mup;
        _multiplier = multiplier;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1], d = x.shape[2];
        Tensor Heads(Tensor y) => y.view(b, t, _heads, _headDim).transpose(1, 2);
        var (qh, kh, vh) = (Heads(q.call(x)), Heads(k.call(x)), Heads(v.call(x)));
        var y = _mup
            ? MuP.ScaledDotProductAttention(qh, kh, vh, isCausal: true, multiplier: _multiplier)
            : nn.functional.scaled_dot_product_attention(qh, kh, vh, is_casual: true);
        return scope.MoveToOuter(o.call(y.transpose(1, 2).reshape(b, t, d)));
    }
}

/// <summary>The μP twin's feed-forward part: fc Linear d→4d, act GELU, proj Linear 4d→d.</summary>
public sealed class MupTwinMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc;
    private readonly GELU act;
    private readonly Linear proj;

    /// <summary>A feed-forward part of width <paramref name="d"/>.</summary>
    public MupTwinMlp(long d) : base("Mlp")
    {
        fc = nn.Linear(d, 4 * d);
        act = nn.GELU();
        proj = nn.Linear(4 * d, d);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(proj.call(act.call(fc.call(x))));
    }
}

/// <summary>A pre-LayerNorm block: x + attn(ln1(x)), then + mlp(ln2(·)).</summary>
public sealed class MupTwinBlock : nn.Module<Tensor, Tensor>
{
    // Declared in PyTorch's registration order (TorchSharp registers fields in declaration order): ln1, attn, ln2, mlp.
    private readonly LayerNorm ln1;
    private readonly MupTwinAttention attn;
    private readonly LayerNorm ln2;
    private readonly MupTwinMlp mlp;

    /// <summary>A block of width <paramref name="d"/>.</summary>
    public MupTwinBlock(long d, long nHead, bool mup, double attentionMultiplier) : base("Block")
    {
        ln1 = nn.LayerNorm(d);
        attn = new MupTwinAttention(d, nHead, mup, attentionMultiplier);
        ln2 = nn.LayerNorm(d);
        mlp = new MupTwinMlp(d);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x + attn.call(ln1.call(x));
        return scope.MoveToOuter(h + mlp.call(ln2.call(h)));
    }
}

/// <summary>
/// The μP twin's language model: tok Embedding(vocab, d), pos Embedding(ctx, d), blocks.0 … (pre-LayerNorm), ln_f, head. The head
/// is a <see cref="MuSharedReadout"/> through tok.weight (tied) or a <see cref="MuReadout"/> (untied); under SP the tied readout
/// with m_in = 1 and α = 1 (a plain tied Linear) and attention logits q·kᵀ/√d_head.
/// </summary>
public sealed class MupTwinGpt : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tok, pos;
    private readonly ModuleList<MupTwinBlock> blocks;
    private readonly LayerNorm ln_f;
    private readonly nn.Module<Tensor, Tensor> head;

    /// <summary>The model of width <paramref name="d"/>.</summary>
    /// <param name="vocab">Vocabulary size.</param>
    /// <param name="ctx">Context length (positions).</param>
    /// <param name="d">Width.</param>
    /// <param name="nHead">Heads (fixed; d_head = d / nHead grows with d).</param>
    /// <param name="nLayer">Blocks.</param>
    /// <param name="tied">Tied readout (through tok.weight) or an untied <see cref="MuReadout"/>.</param>
    /// <param name="mup">μP (α/d_head logits, readout α/m_in) or SP (1/√d_head, plain readout).</param>
    /// <param name="readoutMultiplier">The readout's α under μP.</param>
    /// <param name="attentionMultiplier">The attention's α under μP.</param>
    public MupTwinGpt(long vocab, long ctx, long d, long nHead, long nLayer, bool tied, bool mup, double readoutMultiplier, double attentionMultiplier)
        : base("Gpt")
    {
        tok = nn.Embedding(vocab, d);
        pos = nn.Embedding(ctx, d);
        blocks = nn.ModuleList(Enumerable.Range(0, (int)nLayer).Select(_ => new MupTwinBlock(d, nHead, mup, attentionMultiplier)).ToArray());
        ln_f = nn.LayerNorm(d);
        head = tied
            ? mup ? new MuSharedReadout(tok.weight!, hasBias: true, outputMultiplier: readoutMultiplier)
                  : new MuSharedReadout(tok.weight!, hasBias: true, outputMultiplier: 1, baseInFeatures: d)
            : new MuReadout(d, vocab, hasBias: true, outputMultiplier: readoutMultiplier);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor idx)
    {
        using var scope = NewDisposeScope();
        var x = tok.call(idx) + pos.call(arange(idx.shape[1], ScalarType.Int64, idx.device));
        foreach (var block in blocks) x = block.call(x);
        return scope.MoveToOuter(head.call(ln_f.call(x)));
    }
}
