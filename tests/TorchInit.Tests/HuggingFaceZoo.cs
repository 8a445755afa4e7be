using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// TorchSharp trees of the Hugging Face models scripts/gen_hf_fixtures.py builds as PyTorch twins: the same module names and the
/// same construction order (a module's fields are constructed and registered in declaration order), sized by the fixture's
/// <c>config</c>. Forward passes are left out: the tests compare initial tensors. Norms are this assembly's own modules with a
/// <c>weight</c> (TorchSharp 0.107 has no RMSNorm), declaring their constructor's ones (<see cref="IInitializable"/>) unless built plain.
/// </summary>
internal static class HuggingFaceZoo
{
    /// <summary>An RMSNorm / T5LayerNorm: a weight of ones and no bias.</summary>
    public class Norm : nn.Module<Tensor, Tensor>
    {
        public readonly Parameter weight;
        public Norm(long size) : base("RMSNorm")
        {
            weight = nn.Parameter(ones(size));
            RegisterComponents();
        }
        public override Tensor forward(Tensor x) => x * weight;
    }

    /// <summary>A norm that says what its constructor does, so that the construction replay knows it draws nothing.</summary>
    public sealed class DeclaredNorm(long size) : Norm(size), IInitializable
    {
        public void DeclareInit(ParameterDeclarations init) => init.Use("weight", InitScheme.Ones, "its constructor: torch.ones");
    }

    /// <summary>Rotary position embedding: a buffer only (<c>inv_freq</c>; non-persistent in Hugging Face), as in Hugging Face.</summary>
    public sealed class Rotary : nn.Module<Tensor, Tensor>
    {
        public Rotary(long dim, double theta) : base("RotaryEmbedding")
        {
            using var exponent = arange(0, dim, 2, ScalarType.Int64).to_type(ScalarType.Float32) / dim;
            using var denominator = pow(theta, exponent);
            register_buffer("inv_freq", 1.0 / denominator);   // persistent: TorchSharp 0.107's named_buffers() does not list a submodule's non-persistent buffers
        }
        public override Tensor forward(Tensor x) => x;
    }

    private abstract class Node(string name) : nn.Module<Tensor, Tensor>(name)
    {
        public override Tensor forward(Tensor x) => x;
    }

    private static long Int(JsonElement config, string name) => config.GetProperty(name).GetInt64();

    // ---- Llama, Qwen2 ----

    private sealed class LlamaAttention : Node
    {
        public readonly Linear q_proj, k_proj, v_proj, o_proj;
        public LlamaAttention(JsonElement c, bool qkvBias) : base(nameof(LlamaAttention))
        {
            long hidden = Int(c, "hidden_size"), heads = Int(c, "num_attention_heads"), kv = Int(c, "num_key_value_heads"), head = hidden / heads;
            q_proj = nn.Linear(hidden, heads * head, hasBias: qkvBias);
            k_proj = nn.Linear(hidden, kv * head, hasBias: qkvBias);
            v_proj = nn.Linear(hidden, kv * head, hasBias: qkvBias);
            o_proj = nn.Linear(heads * head, hidden, hasBias: false);
            RegisterComponents();
        }
    }

    private sealed class LlamaMlp : Node
    {
        public readonly Linear gate_proj, up_proj, down_proj;
        public readonly SiLU act_fn = nn.SiLU();
        public LlamaMlp(JsonElement c) : base("LlamaMLP")
        {
            long hidden = Int(c, "hidden_size"), inter = Int(c, "intermediate_size");
            gate_proj = nn.Linear(hidden, inter, hasBias: false);
            up_proj = nn.Linear(hidden, inter, hasBias: false);
            down_proj = nn.Linear(inter, hidden, hasBias: false);
            RegisterComponents();
        }
    }

    private sealed class LlamaDecoderLayer : Node
    {
        public readonly LlamaAttention self_attn;
        public readonly LlamaMlp mlp;
        public readonly Norm input_layernorm, post_attention_layernorm;
        public LlamaDecoderLayer(JsonElement c, bool qkvBias, Func<long, Norm> norm) : base(nameof(LlamaDecoderLayer))
        {
            self_attn = new LlamaAttention(c, qkvBias);
            mlp = new LlamaMlp(c);
            input_layernorm = norm(Int(c, "hidden_size"));
            post_attention_layernorm = norm(Int(c, "hidden_size"));
            RegisterComponents();
        }
    }

    private sealed class LlamaModel : Node
    {
        public readonly Embedding embed_tokens;
        public readonly ModuleList<LlamaDecoderLayer> layers;
        public readonly Norm norm;
        public readonly Rotary rotary_emb;
        public LlamaModel(JsonElement c, bool qkvBias, Func<long, Norm> makeNorm) : base(nameof(LlamaModel))
        {
            long hidden = Int(c, "hidden_size");
            embed_tokens = nn.Embedding(Int(c, "vocab_size"), hidden, padding_idx: Int(c, "pad_token_id"));
            layers = nn.ModuleList(Enumerable.Range(0, (int)Int(c, "num_hidden_layers")).Select(_ => new LlamaDecoderLayer(c, qkvBias, makeNorm)).ToArray());
            norm = makeNorm(hidden);
            rotary_emb = new Rotary(hidden / Int(c, "num_attention_heads"), c.GetProperty("rope_theta").GetDouble());
            RegisterComponents();
        }
    }

    private sealed class LlamaForCausalLM : Node
    {
        public readonly LlamaModel model;
        public readonly Linear lm_head;
        public LlamaForCausalLM(JsonElement c, bool qkvBias, bool tied, Func<long, Norm> norm) : base(nameof(LlamaForCausalLM))
        {
            model = new LlamaModel(c, qkvBias, norm);
            lm_head = nn.Linear(Int(c, "hidden_size"), Int(c, "vocab_size"), hasBias: false);
            if (tied) lm_head.weight = model.embed_tokens.weight!;
            RegisterComponents();
        }
    }

    /// <summary>A bare LlamaModel (no head) of the fixture's config: the root is the model, with one post_init.</summary>
    public static nn.Module LlamaModelAlone(JsonElement config) => new LlamaModel(config, false, n => new DeclaredNorm(n));

    /// <summary>LlamaForCausalLM (Qwen2ForCausalLM with <paramref name="qkvBias"/>) of the fixture's config.</summary>
    public static nn.Module Llama(JsonElement config, bool qkvBias, bool tied, bool declaredNorms = true) =>
        new LlamaForCausalLM(config, qkvBias, tied, declaredNorms ? n => new DeclaredNorm(n) : n => new Norm(n));

    // ---- T5 ----

    private sealed class T5Attention : Node
    {
        public readonly Linear q, k, v, o;
        public readonly Embedding? relative_attention_bias;
        public T5Attention(JsonElement c, bool relativeBias) : base(nameof(T5Attention))
        {
            long d = Int(c, "d_model"), inner = Int(c, "num_heads") * Int(c, "d_kv");
            q = nn.Linear(d, inner, hasBias: false);
            k = nn.Linear(d, inner, hasBias: false);
            v = nn.Linear(d, inner, hasBias: false);
            o = nn.Linear(inner, d, hasBias: false);
            if (relativeBias) relative_attention_bias = nn.Embedding(Int(c, "relative_attention_num_buckets"), Int(c, "num_heads"));
            RegisterComponents();
        }
    }

    private sealed class T5LayerSelfAttention : Node
    {
        public readonly T5Attention SelfAttention;
        public readonly Norm layer_norm;
        public readonly Dropout dropout = nn.Dropout(0.1);
        public T5LayerSelfAttention(JsonElement c, bool relativeBias) : base(nameof(T5LayerSelfAttention))
        {
            SelfAttention = new T5Attention(c, relativeBias);
            layer_norm = new DeclaredNorm(Int(c, "d_model"));
            RegisterComponents();
        }
    }

    private sealed class T5LayerCrossAttention : Node
    {
        public readonly T5Attention EncDecAttention;
        public readonly Norm layer_norm;
        public readonly Dropout dropout = nn.Dropout(0.1);
        public T5LayerCrossAttention(JsonElement c) : base(nameof(T5LayerCrossAttention))
        {
            EncDecAttention = new T5Attention(c, false);
            layer_norm = new DeclaredNorm(Int(c, "d_model"));
            RegisterComponents();
        }
    }

    private sealed class T5DenseActDense : Node
    {
        public readonly Linear wi, wo;
        public readonly Dropout dropout = nn.Dropout(0.1);
        public readonly ReLU act = nn.ReLU();
        public T5DenseActDense(JsonElement c) : base(nameof(T5DenseActDense))
        {
            wi = nn.Linear(Int(c, "d_model"), Int(c, "d_ff"), hasBias: false);
            wo = nn.Linear(Int(c, "d_ff"), Int(c, "d_model"), hasBias: false);
            RegisterComponents();
        }
    }

    private sealed class T5DenseGatedActDense : Node
    {
        public readonly Linear wi_0, wi_1, wo;
        public readonly Dropout dropout = nn.Dropout(0.1);
        public readonly GELU act = nn.GELU();
        public T5DenseGatedActDense(JsonElement c) : base(nameof(T5DenseGatedActDense))
        {
            wi_0 = nn.Linear(Int(c, "d_model"), Int(c, "d_ff"), hasBias: false);
            wi_1 = nn.Linear(Int(c, "d_model"), Int(c, "d_ff"), hasBias: false);
            wo = nn.Linear(Int(c, "d_ff"), Int(c, "d_model"), hasBias: false);
            RegisterComponents();
        }
    }

    private sealed class T5LayerFF : Node
    {
        public readonly nn.Module<Tensor, Tensor> DenseReluDense;
        public readonly Norm layer_norm;
        public readonly Dropout dropout = nn.Dropout(0.1);
        public T5LayerFF(JsonElement c, bool gated) : base(nameof(T5LayerFF))
        {
            DenseReluDense = gated ? new T5DenseGatedActDense(c) : new T5DenseActDense(c);
            layer_norm = new DeclaredNorm(Int(c, "d_model"));
            RegisterComponents();
        }
    }

    private sealed class T5Block : Node
    {
        public readonly ModuleList<nn.Module<Tensor, Tensor>> layer;
        public T5Block(JsonElement c, bool decoder, bool relativeBias, bool gated) : base(nameof(T5Block))
        {
            layer = decoder
                ? nn.ModuleList<nn.Module<Tensor, Tensor>>(new T5LayerSelfAttention(c, relativeBias), new T5LayerCrossAttention(c), new T5LayerFF(c, gated))
                : nn.ModuleList<nn.Module<Tensor, Tensor>>(new T5LayerSelfAttention(c, relativeBias), new T5LayerFF(c, gated));
            RegisterComponents();
        }
    }

    private sealed class T5Stack : Node
    {
        public readonly Embedding embed_tokens;
        public readonly ModuleList<T5Block> block;
        public readonly Norm final_layer_norm;
        public readonly Dropout dropout = nn.Dropout(0.1);
        public T5Stack(JsonElement c, Embedding shared, bool decoder, long layers, bool gated) : base(nameof(T5Stack))
        {
            embed_tokens = shared;
            block = nn.ModuleList(Enumerable.Range(0, (int)layers).Select(i => new T5Block(c, decoder, i == 0, gated)).ToArray());
            final_layer_norm = new DeclaredNorm(Int(c, "d_model"));
            RegisterComponents();
        }
    }

    private sealed class T5ForConditionalGeneration : Node
    {
        public readonly Embedding shared;
        public readonly T5Stack encoder, decoder;
        public readonly Linear lm_head;
        public T5ForConditionalGeneration(JsonElement c, bool gated, bool tied) : base(nameof(T5ForConditionalGeneration))
        {
            shared = nn.Embedding(Int(c, "vocab_size"), Int(c, "d_model"));
            encoder = new T5Stack(c, shared, false, Int(c, "num_layers"), gated);
            decoder = new T5Stack(c, shared, true, Int(c, "num_decoder_layers"), gated);
            lm_head = nn.Linear(Int(c, "d_model"), Int(c, "vocab_size"), hasBias: false);
            if (tied) lm_head.weight = shared.weight!;
            RegisterComponents();
        }
    }

    /// <summary>T5ForConditionalGeneration of the fixture's config: the original's feed-forward, or v1.1's gated one.</summary>
    public static nn.Module T5(JsonElement config, bool gated, bool tied) => new T5ForConditionalGeneration(config, gated, tied);

    // ---- GPT-NeoX ----

    private sealed class GPTNeoXAttention : Node
    {
        public readonly Linear query_key_value, dense;
        public GPTNeoXAttention(JsonElement c) : base(nameof(GPTNeoXAttention))
        {
            long h = Int(c, "hidden_size");
            query_key_value = nn.Linear(h, 3 * h);
            dense = nn.Linear(h, h);
            RegisterComponents();
        }
    }

    private sealed class GPTNeoXMlp : Node
    {
        public readonly Linear dense_h_to_4h, dense_4h_to_h;
        public readonly GELU act = nn.GELU();
        public GPTNeoXMlp(JsonElement c) : base("GPTNeoXMLP")
        {
            dense_h_to_4h = nn.Linear(Int(c, "hidden_size"), Int(c, "intermediate_size"));
            dense_4h_to_h = nn.Linear(Int(c, "intermediate_size"), Int(c, "hidden_size"));
            RegisterComponents();
        }
    }

    private sealed class GPTNeoXLayer : Node
    {
        public readonly LayerNorm input_layernorm, post_attention_layernorm;
        public readonly Dropout post_attention_dropout = nn.Dropout(0.0), post_mlp_dropout = nn.Dropout(0.0);
        public readonly GPTNeoXAttention attention;
        public readonly GPTNeoXMlp mlp;
        public GPTNeoXLayer(JsonElement c) : base(nameof(GPTNeoXLayer))
        {
            input_layernorm = nn.LayerNorm(Int(c, "hidden_size"));
            post_attention_layernorm = nn.LayerNorm(Int(c, "hidden_size"));
            attention = new GPTNeoXAttention(c);
            mlp = new GPTNeoXMlp(c);
            RegisterComponents();
        }
    }

    private sealed class GPTNeoXModel : Node
    {
        public readonly Embedding embed_in;
        public readonly Dropout emb_dropout = nn.Dropout(0.0);
        public readonly ModuleList<GPTNeoXLayer> layers;
        public readonly LayerNorm final_layer_norm;
        public readonly Rotary rotary_emb;
        public GPTNeoXModel(JsonElement c) : base(nameof(GPTNeoXModel))
        {
            long h = Int(c, "hidden_size");
            embed_in = nn.Embedding(Int(c, "vocab_size"), h);
            layers = nn.ModuleList(Enumerable.Range(0, (int)Int(c, "num_hidden_layers")).Select(_ => new GPTNeoXLayer(c)).ToArray());
            final_layer_norm = nn.LayerNorm(h);
            rotary_emb = new Rotary((long)(h / Int(c, "num_attention_heads") * c.GetProperty("rotary_pct").GetDouble()), c.GetProperty("rotary_emb_base").GetDouble());
            RegisterComponents();
        }
    }

    private sealed class GPTNeoXForCausalLM : Node
    {
        public readonly GPTNeoXModel gpt_neox;
        public readonly Linear embed_out;
        public GPTNeoXForCausalLM(JsonElement c, bool tied) : base(nameof(GPTNeoXForCausalLM))
        {
            gpt_neox = new GPTNeoXModel(c);
            embed_out = nn.Linear(Int(c, "hidden_size"), Int(c, "vocab_size"), hasBias: false);
            if (tied) embed_out.weight = gpt_neox.embed_in.weight!;
            RegisterComponents();
        }
    }

    /// <summary>GPTNeoXForCausalLM of the fixture's config.</summary>
    public static nn.Module GptNeoX(JsonElement config, bool tied) => new GPTNeoXForCausalLM(config, tied);
}
