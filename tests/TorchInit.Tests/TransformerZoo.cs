using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The transformer zoo of scripts/gen_fixtures.py (TRANSFORMER_ZOO), built the same way: an encoder-only classifier, a decoder
/// layer (used with a causal mask), an encoder-decoder nn.Transformer, a tiny GPT with a tied embedding, a ViT-like patch model
/// whose position embedding is declared by the module itself (IInitializable), and an attention with bias_k / bias_v.
/// </summary>
internal static class TransformerZoo
{
    public static readonly string[] Names = ["encoder_classifier", "decoder_layer", "encoder_decoder", "tiny_gpt", "vit", "mha_kv"];

    public static nn.Module Model(string name) => name switch
    {
        "encoder_classifier" => new EncoderClassifier(),
        "decoder_layer" => nn.TransformerDecoderLayer(16, 2, 32, 0.0, nn.Activations.GELU),
        "encoder_decoder" => nn.Transformer(16, 2, 1, 1, 32, 0.0),
        "tiny_gpt" => new TinyGpt(),
        "vit" => new PatchVit(),
        "mha_kv" => nn.MultiheadAttention(16, 2, add_bias_kv: true),
        _ => throw new ArgumentException($"unknown transformer zoo model {name}"),
    };

    /// <summary>The policies the fixtures name.</summary>
    public static InitPolicy Policy(string name) => name switch
    {
        "torchdefault" => InitScheme.TorchDefault,
        "auto" => InitPolicy.Auto,
        "auto_gelu" => InitPolicy.Auto.Hint<TransformerDecoderLayer>(Activation.Gelu),
        "henormal" => InitScheme.HeNormal,
        "gpt2" => InitPolicy.Gpt2(2),
        "bert" => InitPolicy.Bert(),
        "bert_truncated" => InitPolicy.Bert(truncated: true),
        "vit" => InitPolicy.Vit(),
        _ => throw new ArgumentException($"unknown policy {name}"),
    };

    /// <summary>Embedding, TransformerEncoder of 2 relu layers, LayerNorm, Linear head: the model of issue 11.</summary>
    public sealed class EncoderClassifier : nn.Module<Tensor, Tensor>
    {
        public readonly Embedding emb = nn.Embedding(50, 16);
        public readonly TransformerEncoder encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, 0.0), 2);
        public readonly LayerNorm norm = nn.LayerNorm(16);
        public readonly Linear head = nn.Linear(16, 4);

        public EncoderClassifier() : base(nameof(EncoderClassifier)) => RegisterComponents();

        /// <summary>Tokens [batch, time] → logits [batch, 4] (sequence-first inside, as PyTorch's default layout).</summary>
        public override Tensor forward(Tensor tokens)
        {
            using var scope = NewDisposeScope();
            var x = encoder.call(emb.call(tokens).transpose(0, 1));
            return head.call(norm.call(x.mean([0]))).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Token and position embeddings, 2 causal gelu blocks, final LayerNorm, a head tied to the token embedding.</summary>
    public sealed class TinyGpt : nn.Module<Tensor, Tensor>
    {
        public readonly Embedding tok = nn.Embedding(64, 16);
        public readonly Embedding pos = nn.Embedding(8, 16);
        public readonly TransformerEncoder blocks = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 64, 0.0, nn.Activations.GELU), 2);
        public readonly LayerNorm ln_f = nn.LayerNorm(16);
        public readonly Linear head = nn.Linear(16, 64, hasBias: false);

        public TinyGpt() : base(nameof(TinyGpt))
        {
            head.weight = tok.weight!;
            RegisterComponents();
        }

        /// <summary>Tokens [batch, time ≤ 8] → logits [batch, time, 64], causal.</summary>
        public override Tensor forward(Tensor tokens)
        {
            using var scope = NewDisposeScope();
            long t = tokens.shape[1];
            var x = tok.call(tokens) + pos.call(arange(t, device: tokens.device));
            var mask = triu(full(t, t, float.NegativeInfinity, device: tokens.device), 1);
            x = blocks.call(x.transpose(0, 1), mask).transpose(0, 1);
            return head.call(ln_f.call(x)).MoveToOuterDisposeScope();
        }
    }

    /// <summary>A ViT-like model: its own position embedding (declared: trunc_normal_ std 0.02), a 4×4 patch convolution, one gelu block.</summary>
    public sealed class PatchVit : nn.Module<Tensor, Tensor>, IInitializable
    {
        public readonly Parameter pos_embed = nn.Parameter(zeros(1, 4, 16));
        public readonly Conv2d patch = nn.Conv2d(3, 16, 4, stride: 4);
        public readonly TransformerEncoder encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, 0.0, nn.Activations.GELU), 1);
        public readonly LayerNorm norm = nn.LayerNorm(16);
        public readonly Linear head = nn.Linear(16, 10);

        public PatchVit() : base(nameof(PatchVit)) => RegisterComponents();

        public void DeclareInit(ParameterDeclarations init) =>
            init.Use("pos_embed", InitScheme.TruncatedNormal(0.02), "position embedding: trunc_normal_(std=0.02), as timm's ViT");

        /// <summary>Images [batch, 3, 8, 8] → logits [batch, 10].</summary>
        public override Tensor forward(Tensor images)
        {
            using var scope = NewDisposeScope();
            var x = patch.call(images).flatten(2).transpose(1, 2) + pos_embed; // [batch, 4, 16]
            x = encoder.call(x.transpose(0, 1)).mean([0]);
            return head.call(norm.call(x)).MoveToOuterDisposeScope();
        }
    }
}
