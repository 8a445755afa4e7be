#!/usr/bin/env python3
"""Hugging Face zoo fixtures for TorchInit's InitPolicy.HuggingFace presets: hashes of small Llama, Qwen2, T5 and GPT-NeoX
models' initial tensors, built by PyTorch twins of Hugging Face's modeling files.

No `transformers` package is installable here, so each family is a twin written from Hugging Face's source
(src/transformers/modeling_utils.py and models/{llama,qwen2,t5,gpt_neox}/modeling_*.py, transformers 4.4x-5.x): the same
modules with the same names, built in the same order, and the same initialization machinery:

- every PreTrainedModel's __init__ ends with post_init(), which applies `_initialize_weights` to its modules in
  Module.apply's post-order (children first, then the module) and then ties the output embedding to the input one
  (tie_weights). `_initialize_weights` skips a module already marked `_is_hf_initialized` and marks each one it visits.
- a model nests PreTrainedModels (LlamaForCausalLM holds a LlamaModel, T5ForConditionalGeneration two T5Stacks,
  GPTNeoXForCausalLM a GPTNeoXModel), so a sub-model's post_init runs as soon as it is built, before the modules built
  after it are constructed, and the outer post_init only reaches what no sub-model initialized (the heads, T5's root).

torch.manual_seed(seed); model = <twin>(config) is what torch.manual_seed(seed); <Family>(config) gives in transformers.
For GPT-NeoX the fixtures also hold the GPT-NeoX library's init (EleutherAI/gpt-neox megatron/model/init_functions.py,
as Pythia was trained: init_method "small_init" std = sqrt(2 / (5 d)) on the embedding, query_key_value, dense_h_to_4h
and the final embed_out; output_layer_init_method "wang_init" std = 2 / (n_layers sqrt(d)) on attention.dense and
dense_4h_to_h; biases 0, LayerNorm 1 and 0), applied in Hugging Face's order on Hugging Face's GPTNeoXForCausalLM tree.

Per parameter (named_parameters() order: a tied head's weight is its embedding's, listed once) and buffer, name, dtype,
shape and the SHA-256 of its raw little-endian bytes, in the zoo fixtures' format (gen_torchvision_fixtures.to_text).
tests/TorchInit.Tests/HuggingFacePresetTests.cs builds the same trees in TorchSharp and checks the presets against them.

Needs only Debian 13's python3-torch 2.6 in /usr/bin/python3; scripts/test.sh runs --check when torch is importable.

Usage: /usr/bin/python3 scripts/gen_hf_fixtures.py [--out DIR] [--check]
"""
import math, sys
from types import SimpleNamespace

import torch
from torch import nn

from gen_torchvision_fixtures import fixture_main, tensor_entry, to_text

DEFAULT_OUT = "tests/TorchInit.Tests/Fixtures/hf"
SEEDS = [0, 12345]


# ---- Hugging Face's initialization machinery (modeling_utils.PreTrainedModel) ----

class PreTrainedTwin(nn.Module):
    """post_init: apply _initialize_weights in post-order, each module once; then tie the output embedding."""

    def __init__(self, config):
        super().__init__()
        self.config = config

    def post_init(self):
        with torch.no_grad():
            self.apply(self._initialize_weights)
        self.tie_weights()

    def _initialize_weights(self, module):
        if getattr(module, "_is_hf_initialized", False):
            return
        self._init_weights(module)
        module._is_hf_initialized = True

    def _init_weights(self, module):
        raise NotImplementedError

    def get_input_embeddings(self):
        return None

    def get_output_embeddings(self):
        return None

    def tie_weights(self):
        out = self.get_output_embeddings()
        if self.config.tie_word_embeddings and out is not None:
            out.weight = self.get_input_embeddings().weight


def normal_(t, std):
    t.normal_(mean=0.0, std=std)


def zero_padding_row(embedding):
    if embedding.padding_idx is not None:
        embedding.weight[embedding.padding_idx].zero_()


# ---- Llama (and Qwen2: q, k, v with biases) ----

class RMSNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))


class RotaryEmbedding(nn.Module):
    def __init__(self, dim, base):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        head = c.hidden_size // c.num_attention_heads
        self.q_proj = nn.Linear(c.hidden_size, c.num_attention_heads * head, bias=c.qkv_bias)
        self.k_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * head, bias=c.qkv_bias)
        self.v_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * head, bias=c.qkv_bias)
        self.o_proj = nn.Linear(c.num_attention_heads * head, c.hidden_size, bias=False)


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)
        self.act_fn = nn.SiLU()


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = LlamaAttention(c)
        self.mlp = LlamaMLP(c)
        self.input_layernorm = RMSNorm(c.hidden_size)
        self.post_attention_layernorm = RMSNorm(c.hidden_size)


class LlamaPreTrained(PreTrainedTwin):
    def _init_weights(self, module):   # LlamaPreTrainedModel._init_weights (Qwen2's is the same)
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            normal_(module.weight, std)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, nn.Embedding):
            normal_(module.weight, std)
            zero_padding_row(module)
        elif isinstance(module, RMSNorm):
            module.weight.fill_(1.0)


class LlamaModel(LlamaPreTrained):
    def __init__(self, c):
        super().__init__(c)
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size, c.pad_token_id)
        self.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c.num_hidden_layers)])
        self.norm = RMSNorm(c.hidden_size)
        self.rotary_emb = RotaryEmbedding(c.hidden_size // c.num_attention_heads, c.rope_theta)
        self.post_init()


class LlamaForCausalLM(LlamaPreTrained):
    def __init__(self, c):
        super().__init__(c)
        self.model = LlamaModel(c)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.embed_tokens

    def get_output_embeddings(self):
        return self.lm_head


LLAMA = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, pad_token_id=3, rope_theta=10000.0, initializer_range=0.02)


# ---- T5 (T5ForConditionalGeneration; v1.1's gated feed-forward) ----

class T5LayerNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))


class T5DenseActDense(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi = nn.Linear(c.d_model, c.d_ff, bias=False)
        self.wo = nn.Linear(c.d_ff, c.d_model, bias=False)
        self.dropout = nn.Dropout(0.1)
        self.act = nn.ReLU()


class T5DenseGatedActDense(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi_0 = nn.Linear(c.d_model, c.d_ff, bias=False)
        self.wi_1 = nn.Linear(c.d_model, c.d_ff, bias=False)
        self.wo = nn.Linear(c.d_ff, c.d_model, bias=False)
        self.dropout = nn.Dropout(0.1)
        self.act = nn.GELU(approximate="tanh")


class T5LayerFF(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.DenseReluDense = T5DenseGatedActDense(c) if c.is_gated_act else T5DenseActDense(c)
        self.layer_norm = T5LayerNorm(c.d_model)
        self.dropout = nn.Dropout(0.1)


class T5Attention(nn.Module):
    def __init__(self, c, has_relative_attention_bias):
        super().__init__()
        self.has_relative_attention_bias = has_relative_attention_bias
        inner = c.num_heads * c.d_kv
        self.q = nn.Linear(c.d_model, inner, bias=False)
        self.k = nn.Linear(c.d_model, inner, bias=False)
        self.v = nn.Linear(c.d_model, inner, bias=False)
        self.o = nn.Linear(inner, c.d_model, bias=False)
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(c.relative_attention_num_buckets, c.num_heads)


class T5LayerSelfAttention(nn.Module):
    def __init__(self, c, has_relative_attention_bias):
        super().__init__()
        self.SelfAttention = T5Attention(c, has_relative_attention_bias)
        self.layer_norm = T5LayerNorm(c.d_model)
        self.dropout = nn.Dropout(0.1)


class T5LayerCrossAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.EncDecAttention = T5Attention(c, False)
        self.layer_norm = T5LayerNorm(c.d_model)
        self.dropout = nn.Dropout(0.1)


class T5Block(nn.Module):
    def __init__(self, c, is_decoder, has_relative_attention_bias):
        super().__init__()
        self.layer = nn.ModuleList()
        self.layer.append(T5LayerSelfAttention(c, has_relative_attention_bias))
        if is_decoder:
            self.layer.append(T5LayerCrossAttention(c))
        self.layer.append(T5LayerFF(c))


class T5PreTrained(PreTrainedTwin):
    def _init_weights(self, module):   # T5PreTrainedModel._init_weights (the branches these modules take)
        c, f = self.config, self.config.initializer_factor
        if isinstance(module, T5LayerNorm):
            module.weight.fill_(f * 1.0)
        elif isinstance(module, T5ForConditionalGeneration):
            normal_(module.shared.weight, f * 1.0)
            if not c.tie_word_embeddings:
                normal_(module.lm_head.weight, f * 1.0)
        elif isinstance(module, T5DenseActDense):
            normal_(module.wi.weight, f * c.d_model ** -0.5)
            normal_(module.wo.weight, f * c.d_ff ** -0.5)
        elif isinstance(module, T5DenseGatedActDense):
            normal_(module.wi_0.weight, f * c.d_model ** -0.5)
            normal_(module.wi_1.weight, f * c.d_model ** -0.5)
            normal_(module.wo.weight, f * c.d_ff ** -0.5)
        elif isinstance(module, T5Attention):
            normal_(module.q.weight, f * (c.d_model * c.d_kv) ** -0.5)
            normal_(module.k.weight, f * c.d_model ** -0.5)
            normal_(module.v.weight, f * c.d_model ** -0.5)
            normal_(module.o.weight, f * (c.num_heads * c.d_kv) ** -0.5)
            if module.has_relative_attention_bias:
                normal_(module.relative_attention_bias.weight, f * c.d_model ** -0.5)


class T5Stack(T5PreTrained):
    def __init__(self, c, embed_tokens, is_decoder, num_layers):
        super().__init__(c)
        self.embed_tokens = embed_tokens
        self.block = nn.ModuleList([T5Block(c, is_decoder, i == 0) for i in range(num_layers)])
        self.final_layer_norm = T5LayerNorm(c.d_model)
        self.dropout = nn.Dropout(0.1)
        self.post_init()


class T5ForConditionalGeneration(T5PreTrained):
    def __init__(self, c):
        super().__init__(c)
        self.shared = nn.Embedding(c.vocab_size, c.d_model)
        self.encoder = T5Stack(c, self.shared, False, c.num_layers)
        self.decoder = T5Stack(c, self.shared, True, c.num_decoder_layers)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.shared

    def get_output_embeddings(self):
        return self.lm_head


T5 = dict(vocab_size=64, d_model=32, d_kv=8, num_heads=4, d_ff=48, num_layers=2, num_decoder_layers=2,
          relative_attention_num_buckets=8, initializer_factor=1.0)


# ---- GPT-NeoX (Pythia) ----

class GPTNeoXAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.query_key_value = nn.Linear(c.hidden_size, 3 * c.hidden_size)
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.dense.output_layer = True


class GPTNeoXMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(c.hidden_size, c.intermediate_size)
        self.dense_4h_to_h = nn.Linear(c.intermediate_size, c.hidden_size)
        self.dense_4h_to_h.output_layer = True
        self.act = nn.GELU()


class GPTNeoXLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(c.hidden_size)
        self.post_attention_layernorm = nn.LayerNorm(c.hidden_size)
        self.post_attention_dropout = nn.Dropout(0.0)
        self.post_mlp_dropout = nn.Dropout(0.0)
        self.attention = GPTNeoXAttention(c)
        self.mlp = GPTNeoXMLP(c)


class GPTNeoXPreTrained(PreTrainedTwin):
    def _init_weights(self, module):
        c = self.config
        if c.init == "hf":   # GPTNeoXPreTrainedModel._init_weights
            input_std = output_std = c.initializer_range
        else:                # the GPT-NeoX library: small_init and wang_init (init_functions.py)
            input_std = math.sqrt(2 / (5 * c.hidden_size))
            output_std = 2 / c.num_hidden_layers / math.sqrt(c.hidden_size)
        if isinstance(module, nn.Linear):
            normal_(module.weight, output_std if getattr(module, "output_layer", False) else input_std)
            if module.bias is not None:
                module.bias.zero_()
        elif isinstance(module, nn.Embedding):
            normal_(module.weight, input_std)
            zero_padding_row(module)
        elif isinstance(module, nn.LayerNorm):
            module.bias.zero_()
            module.weight.fill_(1.0)


class GPTNeoXModel(GPTNeoXPreTrained):
    def __init__(self, c):
        super().__init__(c)
        self.embed_in = nn.Embedding(c.vocab_size, c.hidden_size)
        self.emb_dropout = nn.Dropout(0.0)
        self.layers = nn.ModuleList([GPTNeoXLayer(c) for _ in range(c.num_hidden_layers)])
        self.final_layer_norm = nn.LayerNorm(c.hidden_size)
        self.rotary_emb = RotaryEmbedding(int(c.hidden_size // c.num_attention_heads * c.rotary_pct), c.rotary_emb_base)
        self.post_init()


class GPTNeoXForCausalLM(GPTNeoXPreTrained):
    def __init__(self, c):
        super().__init__(c)
        self.gpt_neox = GPTNeoXModel(c)
        self.embed_out = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.gpt_neox.embed_in

    def get_output_embeddings(self):
        return self.embed_out


GPT_NEOX = dict(vocab_size=64, hidden_size=32, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                rotary_pct=0.25, rotary_emb_base=10000.0, initializer_range=0.02)


# ---- the fixtures ----

# file -> (twin class, base config, call, variant keys, variants as dicts of config overrides)
MODELS = {
    "llama": (LlamaForCausalLM, dict(LLAMA, qkv_bias=False), "LlamaForCausalLM(LlamaConfig(**config, tie_word_embeddings=tie))",
              ("seed", "tie_word_embeddings"),
              [dict(seed=s, tie_word_embeddings=t) for s in SEEDS for t in (False, True)]),
    "llama_model": (LlamaModel, dict(LLAMA, qkv_bias=False, tie_word_embeddings=False), "LlamaModel(LlamaConfig(**config)): no head, one post_init",
                    ("seed",), [dict(seed=s) for s in SEEDS]),
    "qwen2": (LlamaForCausalLM, dict(LLAMA, qkv_bias=True), "Qwen2ForCausalLM(Qwen2Config(**config)): Llama's tree and rule, q/k/v with biases",
              ("seed", "tie_word_embeddings"),
              [dict(seed=s, tie_word_embeddings=False) for s in SEEDS]),
    "t5": (T5ForConditionalGeneration, T5, "T5ForConditionalGeneration(T5Config(**config, feed_forward_proj=ff, tie_word_embeddings=tie))",
           ("seed", "feed_forward_proj", "tie_word_embeddings"),
           [dict(seed=s, feed_forward_proj=ff, tie_word_embeddings=t) for s in SEEDS
            for ff, t in (("relu", True), ("gated-gelu", False), ("relu", False), ("gated-gelu", True))]),
    "gpt_neox": (GPTNeoXForCausalLM, GPT_NEOX, "GPTNeoXForCausalLM(GPTNeoXConfig(**config, tie_word_embeddings=tie)), init: 'hf' = "
                 "HF's _init_weights, 'neox_library' = small_init/wang_init in HF's order",
                 ("seed", "init", "tie_word_embeddings"),
                 [dict(seed=s, init="hf", tie_word_embeddings=False) for s in SEEDS]
                 + [dict(seed=0, init="hf", tie_word_embeddings=True)]
                 + [dict(seed=s, init="neox_library", tie_word_embeddings=False) for s in SEEDS]),
}


def variant(name, v):
    cls, base, _, keys, _ = MODELS[name]
    config = SimpleNamespace(**base, **{k: x for k, x in v.items() if k != "seed"})
    if hasattr(config, "feed_forward_proj"):
        config.is_gated_act = config.feed_forward_proj.startswith("gated-")
    torch.manual_seed(v["seed"])
    model = cls(config)
    tensors = [tensor_entry("parameter", n, p) for n, p in model.named_parameters()]
    tensors += [tensor_entry("buffer", n, b) for n, b in model.named_buffers()]
    return {**{k: v[k] for k in keys}, "tensors": tensors}


def model_doc(name):
    cls, base, call, keys, variants = MODELS[name]
    return {"generator": "scripts/gen_hf_fixtures.py",
            "torch_version": torch.__version__.split("+")[0],
            "model": name,
            "config": base,
            "call": f"torch.manual_seed(seed); {call}, as the PyTorch twin {cls.__name__} in the generator builds it",
            "hash": "sha256 of the contiguous tensor's raw little-endian bytes; parameters in named_parameters() order, then buffers",
            "variants": [variant(name, v) for v in variants]}


def main():
    return fixture_main(__doc__, DEFAULT_OUT, list(MODELS), model_doc, lambda name: MODELS[name][3], "Hugging Face fixtures",
                        f"the twins on torch {torch.__version__}", "scripts/gen_hf_fixtures.py")


if __name__ == "__main__":
    sys.exit(main())
