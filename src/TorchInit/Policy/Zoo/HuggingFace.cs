using System.Globalization;
using TorchSharp.Modules;

namespace TorchInit;

public sealed partial record InitPolicy
{
    /// <summary>
    /// Hugging Face transformers' models as <c>torch.manual_seed(s); &lt;Family&gt;ForCausalLM(config)</c> (or
    /// <c>T5ForConditionalGeneration(config)</c>) initializes them in Python, on a TorchSharp tree with Hugging Face's module names
    /// and construction order. Each preset replays the constructors' draws (<see cref="AsConstructed"/>), runs the family's
    /// <c>_init_weights</c> rules as Hugging Face's <c>post_init</c> does — first in each sub-model right after it is constructed
    /// (<see cref="SubModel"/>: LlamaForCausalLM's <c>model</c>, T5's <c>encoder</c> and <c>decoder</c>, GPT-NeoX's <c>gpt_neox</c>), each
    /// module once, then in the outer model for what is left (the heads; T5's <c>shared</c>) — and keeps an Embedding's padding row at 0
    /// (<see cref="KeepPaddingRows"/>). A head tied to the input embedding (the same Parameter) keeps the embedding's values; its own
    /// constructor's draws are made and discarded, as in Python. With <see cref="InitOptions.Seed"/> = s the weights are bit-identical
    /// to Python's (docs/zoo-huggingface.md). Every rule cites "HF &lt;family&gt;: …" in the report.
    /// </summary>
    public static partial class HuggingFace
    {
        /// <summary>
        /// Llama (<c>LlamaPreTrainedModel._init_weights</c>; Mistral's and Qwen2's are copies of it): every Linear N(0, r²) with bias 0
        /// (Qwen2's q/k/v biases), every Embedding N(0, r²) with its padding row 0, the RMSNorms (<c>input_layernorm</c>,
        /// <c>post_attention_layernorm</c>, <c>norm</c>) weight 1, with r = <paramref name="initializerRange"/>; <c>model</c> is the
        /// LlamaModel sub-model, <c>lm_head</c> the head drawn after it. Rotary <c>inv_freq</c> is a buffer, left as it is.
        /// </summary>
        /// <param name="initializerRange">The config's <c>initializer_range</c> r (0.02); positive and finite.</param>
        /// <exception cref="ArgumentException"><paramref name="initializerRange"/> is not positive and finite.</exception>
        public static InitPolicy Llama(double initializerRange = 0.02)
        {
            double r = PositiveRange(initializerRange, nameof(initializerRange));
            const string llama = "llama";
            var p = AsConstructed.SubModel("model").KeepPaddingRows();
            p = Rule(p, llama, $"Linear normal_(0, {Num(r)}²), bias 0", Is<Linear>, InitScheme.Normal(r));
            p = Rule(p, llama, $"Embedding normal_(0, {Num(r)}²), padding_idx row 0", Is<Embedding>, InitScheme.Normal(r));
            p = Rule(p, llama, "RMSNorm weight 1 (input_layernorm, post_attention_layernorm, norm)",
                c => c.Name is "input_layernorm" or "post_attention_layernorm" or "norm", InitScheme.Ones);
            return p.AsPreset();
        }

        /// <summary>
        /// T5 (<c>T5PreTrainedModel._init_weights</c>, Mesh TensorFlow's initialization) on T5ForConditionalGeneration, T5Model and
        /// T5EncoderModel, the original and v1.1's gated feed-forward: with f = <paramref name="factor"/> (the config's
        /// <c>initializer_factor</c>), the T5LayerNorms (<c>layer_norm</c>, <c>final_layer_norm</c>) weight f; in each attention
        /// (<c>SelfAttention</c>, <c>EncDecAttention</c>) q N(0, (f·(d_model·d_kv)^−½)²), k and v N(0, (f·d_model^−½)²),
        /// o N(0, (f·(num_heads·d_kv)^−½)²), the first block's <c>relative_attention_bias</c> N(0, (f·d_model^−½)²); in each
        /// <c>DenseReluDense</c> wi (wi_0, wi_1) N(0, (f·d_model^−½)²) and wo N(0, (f·d_ff^−½)²). <c>encoder</c> and <c>decoder</c> are
        /// T5Stack sub-models (their <c>embed_tokens</c> is <c>shared</c> itself); the root then draws <c>shared</c> N(0, f²), last although
        /// it is built first, and an untied <c>lm_head</c> N(0, f²) — a tied one is <c>shared</c>'s weight and is not drawn.
        /// </summary>
        /// <param name="dModel">d_model; at least 1.</param>
        /// <param name="dKv">d_kv, the size of a head; at least 1.</param>
        /// <param name="numHeads">num_heads; at least 1.</param>
        /// <param name="dFf">d_ff; at least 1.</param>
        /// <param name="factor">initializer_factor f (1.0); positive and finite.</param>
        /// <exception cref="ArgumentException">A dimension is below 1, or <paramref name="factor"/> is not positive and finite.</exception>
        public static InitPolicy T5(int dModel, int dKv, int numHeads, int dFf, double factor = 1.0)
        {
            AtLeastOne(dModel, nameof(dModel));
            AtLeastOne(dKv, nameof(dKv));
            AtLeastOne(numHeads, nameof(numHeads));
            AtLeastOne(dFf, nameof(dFf));
            double f = PositiveRange(factor, nameof(factor));
            const string t5 = "t5";
            static bool InAttention(ModuleContext c, string name) => c.Name == name && c.Parent?.Name is "SelfAttention" or "EncDecAttention";
            static bool InFeedForward(ModuleContext c, params string[] names) => names.Contains(c.Name) && c.Parent?.Name == "DenseReluDense";
            double perModel = f / Math.Sqrt(dModel);
            var p = AsConstructed.SubModel("encoder").SubModel("decoder");
            p = Rule(p, t5, $"T5LayerNorm weight {Num(f)} (layer_norm, final_layer_norm)", c => c.Name is "layer_norm" or "final_layer_norm", InitScheme.Constant(f));
            p = Rule(p, t5, $"attention q normal_(0, ({Num(f)}·({dModel}·{dKv})^-0.5)²)", c => InAttention(c, "q"), InitScheme.Normal(f / Math.Sqrt((double)dModel * dKv)));
            p = Rule(p, t5, $"attention k, v normal_(0, ({Num(f)}·{dModel}^-0.5)²)", c => InAttention(c, "k") || InAttention(c, "v"), InitScheme.Normal(perModel));
            p = Rule(p, t5, $"attention o normal_(0, ({Num(f)}·({numHeads}·{dKv})^-0.5)²)", c => InAttention(c, "o"), InitScheme.Normal(f / Math.Sqrt((double)numHeads * dKv)));
            p = Rule(p, t5, $"relative_attention_bias normal_(0, ({Num(f)}·{dModel}^-0.5)²)", c => c.Name == "relative_attention_bias", InitScheme.Normal(perModel));
            p = Rule(p, t5, $"DenseReluDense wi (wi_0, wi_1) normal_(0, ({Num(f)}·{dModel}^-0.5)²)", c => InFeedForward(c, "wi", "wi_0", "wi_1"), InitScheme.Normal(perModel));
            p = Rule(p, t5, $"DenseReluDense wo normal_(0, ({Num(f)}·{dFf}^-0.5)²)", c => InFeedForward(c, "wo"), InitScheme.Normal(f / Math.Sqrt(dFf)));
            p = Rule(p, t5, $"shared normal_(0, {Num(f)}²), drawn by the root after both stacks", c => c.Path == "shared", InitScheme.Normal(f));
            p = Rule(p, t5, $"lm_head normal_(0, {Num(f)}²) when not tied to shared", c => c.Path == "lm_head", InitScheme.Normal(f));
            return p.AsPreset();
        }

        /// <summary>
        /// GPT-NeoX as Hugging Face initializes it (<c>GPTNeoXPreTrainedModel._init_weights</c>): every Linear (the fused
        /// <c>query_key_value</c> as one matrix: a fixed std needs no fans) N(0, r²) with bias 0, every Embedding N(0, r²) with its
        /// padding row 0, LayerNorm weight 1 and bias 0, with r = <paramref name="initializerRange"/>; <c>gpt_neox</c> is the
        /// GPTNeoXModel sub-model, <c>embed_out</c> the head drawn after it. For the GPT-NeoX library's own init (Pythia), see <see cref="Pythia"/>.
        /// </summary>
        /// <param name="initializerRange">The config's <c>initializer_range</c> r (0.02); positive and finite.</param>
        /// <exception cref="ArgumentException"><paramref name="initializerRange"/> is not positive and finite.</exception>
        public static InitPolicy GptNeoX(double initializerRange = 0.02)
        {
            double r = PositiveRange(initializerRange, nameof(initializerRange));
            return NeoX("gpt_neox", InitScheme.Normal(r), $"normal_(0, {Num(r)}²)", null);
        }

        /// <summary>
        /// GPT-NeoX as the GPT-NeoX library initializes it for training (EleutherAI/gpt-neox <c>megatron/model/init_functions.py</c>), the
        /// init Pythia and GPT-NeoX-20B were trained with: <c>init_method = "small_init"</c>, N(0, 2/(5·d)), on the input embedding,
        /// <c>query_key_value</c>, <c>dense_h_to_4h</c> and the final <c>embed_out</c>; <c>output_layer_init_method = "wang_init"</c>,
        /// N(0, (2/(n_layers·√d))²), on <c>attention.dense</c> and <c>dense_4h_to_h</c>; biases 0, LayerNorm weight 1 and bias 0. Applied
        /// to Hugging Face's GPTNeoXForCausalLM tree in Hugging Face's order (the constructors, then <c>gpt_neox</c>'s post_init, then
        /// <c>embed_out</c>), which is not the library's own construction order: the distributions are the library's, the draws Hugging Face's.
        /// </summary>
        /// <param name="numLayers">num_hidden_layers (n_layers); at least 1.</param>
        /// <param name="hiddenSize">hidden_size d; at least 1.</param>
        /// <exception cref="ArgumentException"><paramref name="numLayers"/> or <paramref name="hiddenSize"/> is below 1.</exception>
        public static InitPolicy Pythia(int numLayers, int hiddenSize)
        {
            AtLeastOne(numLayers, nameof(numLayers));
            AtLeastOne(hiddenSize, nameof(hiddenSize));
            double small = Math.Sqrt(2.0 / (5.0 * hiddenSize)), wang = 2.0 / numLayers / Math.Sqrt(hiddenSize);
            return NeoX("gpt_neox, the GPT-NeoX library's init", InitScheme.Normal(small), $"small_init normal_(0, 2/(5·{hiddenSize}))",
                (InitScheme.Normal(wang), $"wang_init normal_(0, (2/({numLayers}·√{hiddenSize}))²)"));
        }

        /// <summary>GPT-NeoX's rules: Linear and Embedding by the input scheme, the attention's and MLP's output projections by their own when given, LayerNorm 1 and 0.</summary>
        private static InitPolicy NeoX(string family, InitScheme input, string inputText, (InitScheme Scheme, string Text)? output)
        {
            static bool OutputLayer(ModuleContext c) => Is<Linear>(c) && (c.Name == "dense_4h_to_h" || (c.Name == "dense" && c.Parent?.Name == "attention"));
            var p = AsConstructed.SubModel("gpt_neox").KeepPaddingRows();
            p = Rule(p, family, $"Linear {inputText}, bias 0", Is<Linear>, input);
            if (output is var (scheme, text)) p = Rule(p, family, $"attention.dense, dense_4h_to_h {text}, bias 0", OutputLayer, scheme);
            p = Rule(p, family, $"Embedding {inputText}, padding_idx row 0", Is<Embedding>, input);
            p = Rule(p, family, "LayerNorm weight 1, bias 0", Is<LayerNorm>, InitScheme.Ones);
            return p.AsPreset();
        }

        private static bool Is<T>(ModuleContext c) => c.Is(typeof(T));

        /// <summary>A preset rule: which modules, the scheme (their bias 0), and how the report cites it ("HF llama: Linear …").</summary>
        private static InitPolicy Rule(InitPolicy p, string family, string what, Func<ModuleContext, bool> match, InitScheme scheme) =>
            p.For(match, scheme, $"HF {family}: {what}");

        private static double PositiveRange(double v, string name) =>
            double.IsFinite(v) && v > 0 ? v : throw new ArgumentException($"{name} must be positive and finite, got {v}.", name);

        private static void AtLeastOne(int v, string name)
        {
            if (v < 1) throw new ArgumentException($"{name} must be at least 1, got {v}.", name);
        }

        private static string Num(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
    }
}
