#!/usr/bin/env python3
"""PyTorch twin of TorchInit's μP (docs/mup.md; Yang et al. 2022, "Tensor Programs V", arXiv 2203.03466, Tables 3 and 8).

Written from the paper's rules and docs/mup.md, not from Microsoft's mup package. For every run it builds the model at
each width, applies μP by these rules and records, per parameter, what TorchInit must agree with:

  base shapes    the model at the base width, and which dimensions are infinite: those whose size differs between the
                 base model and a delta model at another width (both built on the meta device);
  class          from the layout (Linear [out, in]: out fan-out, in fan-in; Embedding [num, dim]: num fan-in, dim fan-out;
                 vectors fan-out only): input (finite fan-in, infinite fan-out), hidden (both infinite), output (infinite
                 fan-in, finite fan-out), vector-like (a vector with an infinite dimension), finite (nothing grows);
  width mult.    m = m_in (hidden, output), m_out (input, vector-like), 1 (finite), with m_in = ∏ n/n₀ over fan-in dims;
  μP std         σ₀ = the scheme's std at the base shape (TorchDefault here: Linear weight kaiming_uniform_(a=√5), std
                 1/√(3·fan_in₀); its bias U(±1/√fan_in₀) of the base weight; Embedding N(0, 1); LayerNorm 1 and 0):
                 hidden σ₀/√m_in, plain output σ₀/m_in, MuReadout σ₀, the rest σ₀; μP scale s = μP std / σ (σ: the
                 scheme's std at the parameter's own shape; constants s = 1, zeroed queries s = 0);
  learning rates Adam: hidden and plain output 1/m_in, the rest 1; SGD: input and vector-like m_out, hidden m_out/m_in,
                 plain output 1/m_in, MuReadout m_in, finite 1; AdamW weight decay 1/(Adam multiplier).

The models are built after torch.manual_seed(seed + 2), in float32, then converted to the run's dtype. The weights are then
drawn as TorchInit's InitPolicy.Of(TorchDefault).MuP(shapes) writes them: torch.manual_seed(seed), then module pre-order,
weight before bias, a uniform with the μP bound √3·(μP std) directly (a zero for queries under ZeroQueries); a tied weight
once, by its first holder. That policy writes the Linear family only (Linear, MuReadout, a MuSharedReadout's bias):
Embedding and LayerNorm keep their construction (N(0, 1); 1 and 0), which is μP's σ₀ for them already (no μP std is
recorded for them: NaN). Then the coordinate check: for each width, the same seeded batches (MLP: common.ClusterStream;
transformer: randint tokens from a generator seeded seed + 1), one Adam step each (one parameter group per learning-rate
multiplier, lr = base lr × multiplier); before every update the mean |y| (float64) of every leaf module's output and of
the model's output ("(output)"). SP runs (PyTorch's default init, the plain 1/√d_head attention and readout, one Adam
learning rate) are recorded for contrast.

Models (names as in examples/TorchInit.Experiments/MupTwinModels.cs):
  mlp   fc1 Linear(d_in, w), relu1, fc2 Linear(w, w), relu2, head: a plain Linear(w, classes) ("mlp/plain"), a μP readout
        linear(x·α/m_in, W, b) ("mlp/readout"); "mlp/sp" the plain head under SP. Base shapes from a factory (base, delta).
  gpt   tok Embedding(vocab, d), pos Embedding(ctx, d), blocks.{0,1}: ln1, attn (q, k, v, o Linear d→d, k without bias,
        n_head fixed, causal, logits α·q·kᵀ/d_head), ln2, mlp (fc d→4d, act GELU, proj 4d→d), pre-LN residual; ln_f; head: tied to tok.weight
        with the μP output multiplier ("gpt/tied"), an untied μP readout with zero-initialized queries ("gpt/untied");
        "gpt/sp": tied plain readout, logits q·kᵀ/√d_head, PyTorch's defaults. Base shapes from a base and a delta model.

Usage: /usr/bin/python3 scripts/twins/mup.py --out out/twins/mup-float64.json [--dtype float64 --steps 4 --lr 0.03 --runs mlp/sp,...]
"""
import argparse
import collections
import hashlib
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init

import common

INPUT, HIDDEN, OUTPUT, VECTOR, FINITE = "Input", "Hidden", "Output", "VectorLike", "Finite"
FAN_IN, FAN_OUT, NONE = "in", "out", "none"


# ---------------------------------------------------------------------------------------------------------------- modules

class MuReadout(nn.Linear):
    """Table 8's readout: y = linear(x · α / m_in, W, b); m_in = in_features / base in_features, set when μP is applied."""

    def __init__(self, in_features, out_features, bias=True, multiplier=1.0):
        super().__init__(in_features, out_features, bias)
        self.multiplier = multiplier
        self.width_mult = float("nan")

    def forward(self, x):
        return F.linear(x * (self.multiplier / self.width_mult), self.weight, self.bias)


class MuSharedReadout(nn.Module):
    """A readout through a tied weight [vocab, d] (the token embedding's), y = linear(x · α / m_in, W, b), with its own bias
    U(±1/√d). Under SP m_in = 1 and α = 1: the plain tied readout."""

    def __init__(self, weight, bias=True, multiplier=1.0):
        super().__init__()
        self.weight = weight  # the same Parameter object: named_parameters() lists it once, by its first holder
        self.bias = nn.Parameter(torch.empty(weight.shape[0], dtype=weight.dtype, device=weight.device)) if bias else None
        if bias and weight.device.type != "meta":
            bound = 1 / math.sqrt(weight.shape[1])
            init.uniform_(self.bias, -bound, bound)
        self.multiplier = multiplier
        self.width_mult = float("nan")

    def forward(self, x):
        return F.linear(x * (self.multiplier / self.width_mult), self.weight, self.bias)


def mlp(d_in, width, classes, head):
    last = MuReadout(width, classes, multiplier=head["multiplier"]) if head["kind"] == "readout" else nn.Linear(width, classes)
    return nn.Sequential(collections.OrderedDict([
        ("fc1", nn.Linear(d_in, width)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(width, width)), ("relu2", nn.ReLU()),
        ("head", last)]))


class Attention(nn.Module):
    """Causal self-attention written out: softmax(scale · q kᵀ + causal mask) v, heads of d / n_head; μP scale α/d_head, SP 1/√d_head."""

    def __init__(self, d, n_head, mup, multiplier):
        super().__init__()
        # k has no bias: softmax is invariant to a per-query shift of the logits, so a key bias (adding q·b_k to every logit of
        # a query) gets a zero gradient, numerically ~1e-9 in float32, which Adam (eps 1e-8) turns into steps of ~lr/6 driven by
        # rounding noise, different in every libtorch build.
        self.q, self.k, self.v, self.o = nn.Linear(d, d), nn.Linear(d, d, bias=False), nn.Linear(d, d), nn.Linear(d, d)
        self.n_head = n_head
        self.d_head = d // n_head
        self.scale = multiplier / self.d_head if mup else 1 / math.sqrt(self.d_head)

    def forward(self, x):
        b, t, d = x.shape
        heads = lambda y: y.view(b, t, self.n_head, self.d_head).transpose(1, 2)
        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        scores = (q @ k.transpose(-2, -1)) * self.scale
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        att = scores.masked_fill(causal, float("-inf")).softmax(-1)
        return self.o((att @ v).transpose(1, 2).reshape(b, t, d))


class Mlp(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc, self.act, self.proj = nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d)

    def forward(self, x):
        return self.proj(self.act(self.fc(x)))


class Block(nn.Module):
    def __init__(self, d, n_head, mup, attn_multiplier):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(d), Attention(d, n_head, mup, attn_multiplier)
        self.ln2, self.mlp = nn.LayerNorm(d), Mlp(d)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Gpt(nn.Module):
    def __init__(self, vocab, ctx, d, n_head, n_layer, head, mup, attn_multiplier):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList([Block(d, n_head, mup, attn_multiplier) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d)
        if head["kind"] == "tied":
            self.head = MuSharedReadout(self.tok.weight, bias=True, multiplier=head["multiplier"])
        else:
            self.head = MuReadout(d, vocab, multiplier=head["multiplier"])

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


# ------------------------------------------------------------------------------------------------------ layouts and init

def roles(module, name, rank):
    """Fan-in / fan-out role of each dimension (docs/mup.md, Layout)."""
    if rank == 1:
        return [FAN_OUT]
    if isinstance(module, nn.Embedding):
        return [FAN_IN, FAN_OUT]
    if isinstance(module, (nn.Linear, MuSharedReadout)):
        return [FAN_OUT, FAN_IN]
    raise AssertionError(f"no layout for {type(module).__name__}.{name}")


def torch_default(module, name, shape):
    """PyTorch's default init (TorchDefault) of a parameter of `shape` whose layer has the given own shapes:
    ("uniform", bound) / ("normal", std) / ("constant", value)."""
    if isinstance(module, nn.Embedding):
        return "normal", 1.0
    if isinstance(module, nn.LayerNorm):
        return "constant", 1.0 if name == "weight" else 0.0
    if isinstance(module, nn.Linear) and name == "weight":
        gain = math.sqrt(2.0 / (1 + 5))  # kaiming_uniform_(a = √5)
        return "uniform", math.sqrt(3.0) * gain / math.sqrt(shape[1])
    if isinstance(module, (nn.Linear, MuSharedReadout)) and name == "bias":
        return "uniform", 1 / math.sqrt(shape["fan_in"])
    raise AssertionError(f"no default for {type(module).__name__}.{name}")


def std_of(fill):
    kind, v = fill
    return v / math.sqrt(3.0) if kind == "uniform" else v if kind == "normal" else 0.0


def holders(model):
    """Each distinct parameter once, by its first holder in pre-order: (qualified name, module, own name, parameter)."""
    seen, out = set(), []
    for path, m in model.named_modules():
        for n, p in m.named_parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            out.append((f"{path}.{n}" if path else n, m, n, p))
    return out


def base_shapes(base, delta):
    b = {q: list(p.shape) for q, _, _, p in holders(base)}
    d = {q: list(p.shape) for q, _, _, p in holders(delta)}
    assert b.keys() == d.keys()
    return {q: {"base_shape": b[q], "infinite": [x != y for x, y in zip(b[q], d[q])]} for q in b}


def fan_in_of_bias(module, weight_shape):
    return {"fan_in": weight_shape[1]}


def describe(model, shapes):
    """μP entry of every distinct parameter (docs/mup.md): class, multipliers, σ₀, μP std, scale, learning-rate multipliers."""
    rows = []
    for q, m, n, p in holders(model):
        s = shapes[q]
        base, inf, shape = s["base_shape"], s["infinite"], list(p.shape)
        r = roles(m, n, p.dim())
        m_in = m_out = 1.0
        in_inf = out_inf = has_in = False
        for i, role in enumerate(r):
            ratio = shape[i] / base[i]
            if role == FAN_IN:
                has_in, in_inf, m_in = True, in_inf or inf[i], m_in * ratio
            elif role == FAN_OUT:
                out_inf, m_out = out_inf or inf[i], m_out * ratio
        cls = HIDDEN if in_inf and out_inf else OUTPUT if in_inf else INPUT if has_in and out_inf else VECTOR if out_inf else FINITE
        readout = cls == OUTPUT and isinstance(m, MuReadout) and n == "weight"
        width = m_in if cls in (HIDDEN, OUTPUT) else m_out if cls in (INPUT, VECTOR) else 1.0
        # σ₀: the same rule at the base shape (a bias's fan-in is its base weight's).
        if n == "bias" and not isinstance(m, nn.LayerNorm):
            w_shape = list(m.weight.shape)
            w_base = shapes[next(q2 for q2, _, _, p2 in holders(model) if p2 is m.weight)]["base_shape"]
            own, at_base = torch_default(m, n, fan_in_of_bias(m, w_shape)), torch_default(m, n, fan_in_of_bias(m, w_base))
        else:
            own, at_base = torch_default(m, n, shape), torch_default(m, n, base)
        sigma, sigma0 = std_of(own), std_of(at_base)
        factor = 1 / math.sqrt(m_in) if cls == HIDDEN else (1 / m_in if cls == OUTPUT and not readout else 1.0)
        adam = 1 / m_in if cls == HIDDEN or (cls == OUTPUT and not readout) else 1.0
        sgd = (m_out if cls in (INPUT, VECTOR) else m_out / m_in if cls == HIDDEN
               else (m_in if readout else 1 / m_in) if cls == OUTPUT else 1.0)
        rows.append(dict(name=q, module=m, own=n, param=p, shape=shape, cls=cls, m_in=m_in, m_out=m_out, width=width,
                         readout=readout, fill=own, sigma=sigma, sigma0=sigma0, factor=factor, adam=adam, sgd=sgd))
    return rows


def draw(p, kind, v):
    with torch.no_grad():
        if kind == "uniform":
            init.uniform_(p, -v, v)
        elif kind == "normal":
            init.normal_(p, 0.0, v)
        else:
            init.constant_(p, v)


WRITTEN = (nn.Linear, MuSharedReadout)  # what InitPolicy.Of(TorchDefault) writes; Embedding and LayerNorm stay as constructed


def apply_mup(model, shapes, seed, zero_queries=None):
    """TorchInit's ApplyInit(InitPolicy.Of(TorchDefault).MuP(shapes), Seed = seed) by the rules; returns the parameter rows.
    The policy writes the Linear family (Linear, MuReadout, a MuSharedReadout's bias) and leaves Embedding and LayerNorm as
    constructed (the report: "not handled"): PyTorch's N(0, 1) and 1, 0 are already μP's σ₀ for those input and vector-like
    parameters, so they have no μP std (NaN) here and their realized values come from the seeded construction."""
    rows = describe(model, shapes)
    torch.manual_seed(seed)
    for r in rows:
        kind, v = r["fill"]
        if not isinstance(r["module"], WRITTEN):
            r.update(mup_std=float("nan"), scale=float("nan"))
            continue
        if zero_queries and r["own"] == "weight" and zero_queries(r["name"]):
            r.update(mup_std=0.0, scale=0.0)
            draw(r["param"], "constant", 0.0)
            continue
        mup_std = r["sigma0"] * r["factor"]
        r.update(mup_std=mup_std, scale=mup_std / r["sigma"])
        draw(r["param"], kind, math.sqrt(3.0) * mup_std if kind == "uniform" else mup_std)
    first = {id(r["param"]): r["name"] for r in rows}
    for m in model.modules():
        if isinstance(m, (MuReadout, MuSharedReadout)):
            m.width_mult = m.weight.shape[1] / shapes[first[id(m.weight)]]["base_shape"][1]
    return rows


def apply_sp(model, seed):
    """TorchInit's ApplyInit(InitScheme.TorchDefault, Seed = seed): PyTorch's defaults drawn in pre-order for the Linear family;
    Embedding and LayerNorm as constructed."""
    rows = []
    torch.manual_seed(seed)
    for q, m, n, p in holders(model):
        if not isinstance(m, WRITTEN):
            rows.append(dict(name=q, param=p, shape=list(p.shape), mup_std=float("nan")))
            continue
        fill = torch_default(m, n, fan_in_of_bias(m, list(m.weight.shape)) if n == "bias" else list(p.shape))
        draw(p, *fill)
        rows.append(dict(name=q, param=p, shape=list(p.shape), mup_std=std_of(fill)))
    for m in model.modules():
        if isinstance(m, (MuReadout, MuSharedReadout)):
            m.width_mult, m.multiplier = 1.0, 1.0
    return rows


def construct(build, width, dt, seed):
    """The model built after torch.manual_seed(seed + 2), then converted to `dt` (ties kept), as the TorchSharp side builds it:
    the construction's draws are what the policy leaves (the embeddings), and TorchSharp 0.107's nn.Embedding draws its N(0, 1)
    in float32 even when the default dtype is float64, then converts."""
    torch.manual_seed(seed + 2)
    return build(width).to(dt)


def digest(t):
    return hashlib.sha256(t.detach().contiguous().cpu().numpy().tobytes()).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------------------- the check

def coordinate_rows(model, batches, loss, groups):
    """One Adam step per batch; before each update mean|y| (float64) of every leaf module's output and of the model's output."""
    opt = torch.optim.Adam(groups)
    leaves = [(p, m) for p, m in model.named_modules() if p and len(list(m.children())) == 0]
    rows, losses, current = [], [], {}

    def hook_for(path):
        def hook(mod, inputs, output):
            current.setdefault(path, (type(mod).__name__, float(output.detach().double().abs().mean())))
        return hook

    handles = [m.register_forward_hook(hook_for(p)) for p, m in leaves]
    try:
        for step, (x, y) in enumerate(batches):
            current.clear()
            out = model(x)
            value = loss(out, y)
            rows += [dict(step=step, module=p, type=t, l1=l1) for p, (t, l1) in current.items()]
            rows.append(dict(step=step, module="(output)", type=type(model).__name__, l1=float(out.detach().double().abs().mean())))
            losses.append(float(value.detach().double()))
            opt.zero_grad()
            value.backward()
            opt.step()
    finally:
        for h in handles:
            h.remove()
    return rows, losses


def mlp_batches(cfg, seed, steps, dtype):
    stream = common.ClusterStream(seed + 1, cfg["d_in"], cfg["classes"], cfg["batch"], dtype)
    return [stream.next() for _ in range(steps)]


def gpt_batches(cfg, seed, steps):
    g = torch.Generator().manual_seed(seed + 1)
    out = []
    for _ in range(steps):
        tokens = torch.randint(0, cfg["vocab"], (cfg["batch"], cfg["ctx"] + 1), generator=g, dtype=torch.int64)
        out.append((tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()))
    return out


def gpt_loss(logits, target):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


def slopes(rows, widths, step):
    """Least-squares slope of ln l1 against ln width per module at `step` (the coordinate check's exponent)."""
    by = collections.defaultdict(dict)
    for r in rows:
        if r["step"] == step:
            by[r["module"]][r["width"]] = r["l1"]
    out = {}
    xs = [math.log(w) for w in widths]
    mx = sum(xs) / len(xs)
    for mod, d in by.items():
        if any(not (d.get(w, 0) > 0) for w in widths):
            continue
        ys = [math.log(d[w]) for w in widths]
        my = sum(ys) / len(ys)
        out[mod] = sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / sum((a - mx) ** 2 for a in xs)
    return out


def run(name, model_kind, variant, cfg, a, dt):
    """One run at every width: parameters and the coordinate check."""
    mup = variant != "sp"
    if model_kind == "mlp":
        head = {"kind": "readout" if variant == "readout" else "plain", "multiplier": cfg["readout_multiplier"]}
        build = lambda w: mlp(cfg["d_in"], w, cfg["classes"], head)
        batches = mlp_batches(cfg, a.seed, a.steps, dt)
        loss = common.loss_fn
        zero_queries = None
    else:
        tied = variant != "untied"
        head = {"kind": "tied" if tied else "untied",
                "multiplier": (cfg["tied_multiplier"] if tied else cfg["readout_multiplier"]) if mup else 1.0}
        build = lambda w: Gpt(cfg["vocab"], cfg["ctx"], w, cfg["n_head"], cfg["n_layer"], head, mup, cfg["attn_multiplier"])
        batches = gpt_batches(cfg, a.seed, a.steps)
        loss = gpt_loss
        zero_queries = (lambda q: q.endswith(".attn.q.weight")) if variant == "untied" else None
    with torch.device("meta"):
        shapes = base_shapes(build(cfg["base"]), build(cfg["delta"]))
    params, coord, losses = [], [], []
    for w in cfg["widths"]:
        model = construct(build, w, dt, a.seed)
        rows = apply_mup(model, shapes, a.seed, zero_queries) if mup else apply_sp(model, a.seed)
        for r in rows:
            p = r["param"].detach().double()
            entry = dict(width=w, name=r["name"], shape=r["shape"], mup_std=r["mup_std"], realized_std=float(p.std()),
                         realized_mean=float(p.mean()), digest=digest(r["param"]))
            if mup:
                entry.update({"class": r["cls"], "fan_in_mult": r["m_in"], "fan_out_mult": r["m_out"], "width_mult": r["width"],
                              "readout": r["readout"], "mup_scale": r["scale"], "adam_lr": r["adam"], "sgd_lr": r["sgd"],
                              "adamw_wd": 1 / r["adam"]})
            params.append(entry)
        if mup:
            groups = collections.defaultdict(list)
            for r in rows:
                groups[r["adam"]].append(r["param"])
            opt_groups = [{"params": ps, "lr": a.lr * mult} for mult, ps in groups.items()]
        else:
            opt_groups = [{"params": list(model.parameters()), "lr": a.lr}]
        rows_w, losses_w = coordinate_rows(model, batches, loss, opt_groups)
        coord += [dict(width=w, **r) for r in rows_w]
        losses += [dict(width=w, step=i, loss=v) for i, v in enumerate(losses_w)]
    data = float(sum(float(x.double().sum()) + float(y.double().sum()) for x, y in batches))
    out = dict(name=name, model=model_kind, variant=variant, parametrization="mup" if mup else "sp", widths=cfg["widths"],
               base_width=cfg["base"], delta_width=cfg["delta"], data_checksum=data, parameters=params, coordinates=coord, losses=losses)
    if mup:
        out["base_shapes"] = [dict(name=q, **s) for q, s in shapes.items()]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--lr", type=float, default=0.03)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--runs", default="mlp/plain,mlp/readout,mlp/sp,gpt/tied,gpt/untied,gpt/sp")
    ap.add_argument("--compact", action="store_true", help="JSON without indentation (the dotnet-test fixtures)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    dt = common.DTYPES[a.dtype]
    mlp_cfg = dict(d_in=32, classes=10, batch=32, widths=[64, 128, 256], base=64, delta=128, readout_multiplier=2.0)
    gpt_cfg = dict(vocab=64, ctx=16, n_head=4, n_layer=2, batch=8, widths=[32, 64, 128], base=32, delta=64,
                   readout_multiplier=2.0, tied_multiplier=0.125, attn_multiplier=1.0)
    config = dict(seed=a.seed, steps=a.steps, lr=a.lr, dtype=a.dtype, runs=a.runs.split(","), mlp=mlp_cfg, gpt=gpt_cfg)
    runs = []
    for name in config["runs"]:
        kind, variant = name.split("/")
        r = run(name, kind, variant, mlp_cfg if kind == "mlp" else gpt_cfg, a, dt)
        last = slopes(r["coordinates"], r["widths"], a.steps - 1)
        worst = max(last.items(), key=lambda kv: abs(kv[1]))
        print(f"{name}: loss@0 {r['losses'][0]['loss']:.4f}; exponent of l1 vs width at step {a.steps - 1}: "
              f"output {last.get('(output)', float('nan')):+.2f}, largest |.| {worst[0]} {worst[1]:+.2f}", flush=True)
        runs.append(r)
    if a.compact:
        with open(a.out, "w") as f:
            doc = {"experiment": "mup", "producer": f"pytorch {torch.__version__}", "config": config, "runs": runs}
            json.dump(common._finite(doc), f, allow_nan=False, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {a.out}")
    else:
        common.write(a.out, "mup", config, runs)


if __name__ == "__main__":
    main()
