"""Core torch.nn.init trial: runs PyTorch 2.6 on odd inputs and records, per case, either the result (SHA-256 and raw
bytes of the tensor) or the refusal (exception type and message, and whether the tensor was modified before it).
Writes tests/TorchInit.Tests/Fixtures/core-trial/cases.json; replayed by tests/TorchInit.Tests/CoreEdgeCaseTests.cs.

Every tensor starts as a sentinel (arange(n) % 97 * 0.25 - 3 in float64, converted to the dtype) laid out as 'layout':
contig; t (all dims reversed: a permuted view); slice (dim 0 of a twice-as-long base, step 2); expand (dim 0 of size 1
expanded). Before each call torch.manual_seed(global_seed); gen 'generator' passes torch.Generator seeded with seed,
gen 'global' passes none; gen 'global_as_generator' passes none here while TorchInit gets a Generator seeded with seed
(= global_seed): the documented mapping of sparse_, whose randperm PyTorch draws from the global generator.
Case sparse_ with gen 'generator' and global_seed == seed shows that PyTorch's sparse_(generator=g) is not that mapping."""
import base64, hashlib, json, math, os, sys, warnings
import torch
from torch.nn import init

DT = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16,
      "int64": torch.int64, "bool": torch.bool, "complex64": torch.complex64}


def make(shape, dtype, layout, requires_grad=False):
    shape = list(shape)
    if layout == "contig":
        base = shape
    elif layout == "t":
        base = shape[::-1]
    elif layout == "slice":
        base = [shape[0] * 2] + shape[1:]
    elif layout == "expand":
        base = [1] + shape[1:]
    else:
        raise ValueError(layout)
    n = math.prod(base)
    b = (torch.arange(n, dtype=torch.float64) % 97 * 0.25 - 3).to(DT[dtype]).reshape(base)
    if layout == "contig":
        t = b
    elif layout == "t":
        t = b.permute(*reversed(range(len(base))))
    elif layout == "slice":
        t = b[::2]
    else:
        t = b.expand(*shape)
    if requires_grad:
        t.requires_grad_(True)
    return t


def raw(t):
    t = t.detach().contiguous().reshape(-1)
    return t.view(torch.uint8).numpy().tobytes()


def call(op, t, args, g):
    kw = dict(args)
    if op == "uniform_": return init.uniform_(t, kw.get("a", 0.0), kw.get("b", 1.0), generator=g)
    if op == "normal_": return init.normal_(t, kw.get("mean", 0.0), kw.get("std", 1.0), generator=g)
    if op == "trunc_normal_": return init.trunc_normal_(t, kw.get("mean", 0.0), kw.get("std", 1.0), kw.get("a", -2.0), kw.get("b", 2.0), generator=g)
    if op == "constant_": return init.constant_(t, kw["val"])
    if op == "ones_": return init.ones_(t)
    if op == "zeros_": return init.zeros_(t)
    if op == "eye_": return init.eye_(t)
    if op == "dirac_": return init.dirac_(t, kw.get("groups", 1))
    if op == "xavier_uniform_": return init.xavier_uniform_(t, kw.get("gain", 1.0), generator=g)
    if op == "xavier_normal_": return init.xavier_normal_(t, kw.get("gain", 1.0), generator=g)
    if op == "kaiming_uniform_": return init.kaiming_uniform_(t, kw.get("a", 0), kw.get("mode", "fan_in"), kw.get("nonlinearity", "leaky_relu"), generator=g)
    if op == "kaiming_normal_": return init.kaiming_normal_(t, kw.get("a", 0), kw.get("mode", "fan_in"), kw.get("nonlinearity", "leaky_relu"), generator=g)
    if op == "orthogonal_": return init.orthogonal_(t, kw.get("gain", 1.0), generator=g)
    if op == "sparse_": return init.sparse_(t, kw["sparsity"], kw.get("std", 0.01), generator=g)
    raise ValueError(op)


CASES = []


def case(op, shape=(4, 5), dtype="float32", layout="contig", gen="generator", seed=7, global_seed=None, rg=False, **args):
    CASES.append(dict(op=op, shape=list(shape), dtype=dtype, layout=layout, gen=gen, seed=seed,
                      global_seed=seed + 1000 if global_seed is None else global_seed, requires_grad=rg, args=args))


def js(v):
    """Non-finite floats as the strings "nan", "inf", "-inf" (System.Text.Json reads no NaN/Infinity tokens)."""
    if isinstance(v, float) and not math.isfinite(v): return str(v)
    if isinstance(v, dict): return {k: js(x) for k, x in v.items()}
    return v


def gain_case(nonlinearity, param=None):
    CASES.append(dict(op="calculate_gain", args=dict(nonlinearity=nonlinearity, param=param)))


def fans_case(shape):
    CASES.append(dict(op="fans", shape=list(shape), dtype="float32", layout="contig", args={}))


# ---- fans
for s in [(3,), (), (0, 3), (3, 0), (2, 3, 4, 5, 6), (1, 1)]: fans_case(s)
# ---- calculate_gain
for nl, p in [("leaky_relu", float("nan")), ("leaky_relu", float("inf")), ("leaky_relu", -0.2), ("leaky_relu", 2),
              ("leaky_relu", 0), ("leaky_relu", None), ("gelu", None), ("tanh", 3.0), ("selu", None), ("conv_transpose2d", None)]:
    gain_case(nl, p)
# ---- uniform_
case("uniform_", a=-1.0, b=1.0)
case("uniform_", shape=(), a=-1.0, b=1.0)
case("uniform_", shape=(1,), a=-1.0, b=1.0)
case("uniform_", shape=(0, 3))
case("uniform_", shape=(2, 3, 2, 3, 2), dtype="float64", layout="t", a=-0.3, b=0.7)
case("uniform_", shape=(6, 5), dtype="float16", a=-2.0, b=3.0)
case("uniform_", shape=(6, 5), dtype="bfloat16", a=-2.0, b=3.0)
case("uniform_", shape=(6, 5), layout="slice", rg=False, a=0.0, b=1.0)
case("uniform_", shape=(6, 5), rg=True, a=0.0, b=1.0)
case("uniform_", shape=(6, 5), gen="global", a=-1.0, b=1.0)
case("uniform_", a=1.0, b=0.0)
case("uniform_", a=1.0, b=1.0)
case("uniform_", a=0.0, b=float("inf"))
case("uniform_", a=-1e300, b=1e300)
case("uniform_", dtype="float16", a=-1e5, b=1e5)
case("uniform_", dtype="int64")
case("uniform_", layout="expand")
case("uniform_", dtype="complex64")
# ---- normal_
case("normal_", mean=0.5, std=2.0)
case("normal_", shape=(), std=1.0)
case("normal_", shape=(1,), std=1.0)
case("normal_", shape=(0, 3))
case("normal_", shape=(2, 3, 2, 3, 2), dtype="float64", layout="t", mean=-1.0, std=0.3)
case("normal_", shape=(6, 5), dtype="float16", std=0.02)
case("normal_", shape=(6, 5), dtype="bfloat16", std=0.02)
case("normal_", shape=(5, 7), layout="slice", std=1.0)
case("normal_", shape=(6, 5), rg=True)
case("normal_", shape=(6, 5), gen="global", std=0.1)
case("normal_", std=0.0)
case("normal_", std=-1.0)
case("normal_", mean=float("inf"))
case("normal_", std=1e300)
case("normal_", dtype="float16", std=1e5)
case("normal_", dtype="int64")
case("normal_", layout="expand")
case("normal_", dtype="complex64")
# ---- trunc_normal_
case("trunc_normal_")
case("trunc_normal_", shape=(), std=1.0)
case("trunc_normal_", shape=(0, 3))
case("trunc_normal_", shape=(2, 3, 2, 3, 2), dtype="float64", layout="t", std=0.5, a=-1.0, b=1.0)
case("trunc_normal_", shape=(6, 5), dtype="float16")
case("trunc_normal_", shape=(6, 5), dtype="bfloat16")
case("trunc_normal_", shape=(6, 5), gen="global")
case("trunc_normal_", shape=(6, 5), rg=True, layout="slice")
case("trunc_normal_", a=2.0, b=-2.0)
case("trunc_normal_", a=1.0, b=1.0)
case("trunc_normal_", a=float("-inf"), b=float("inf"))
case("trunc_normal_", std=0.0)
case("trunc_normal_", std=-1.0)
case("trunc_normal_", mean=float("nan"))
case("trunc_normal_", mean=10.0)
case("trunc_normal_", std=1e5)
case("trunc_normal_", dtype="float16", std=1e5, a=-1e6, b=1e6)
case("trunc_normal_", dtype="int64")
case("trunc_normal_", layout="expand")
# ---- constant_ / ones_ / zeros_
case("constant_", val=0.25)
case("constant_", val=float("inf"))
case("constant_", val=float("nan"))
case("constant_", dtype="int64", val=2.5)
case("constant_", dtype="float16", val=1e6)
case("constant_", shape=(), val=3.0)
case("constant_", shape=(0, 3), val=3.0)
case("constant_", layout="expand", val=3.0)
case("constant_", dtype="complex64", val=1.0)
case("constant_", dtype="bfloat16", layout="t", shape=(2, 3, 4), val=-0.1)
case("ones_", dtype="bool")
case("ones_", layout="expand")
case("zeros_", layout="expand")
case("zeros_", dtype="int64", layout="t")
case("ones_", shape=(), dtype="float16")
# ---- eye_
case("eye_", shape=(3,))
case("eye_", shape=(3, 3, 3))
case("eye_", shape=(0, 3))
case("eye_", shape=(0, 0))
case("eye_", shape=(3, 5), dtype="int64")
case("eye_", shape=(5, 3), dtype="float16", layout="t")
case("eye_", shape=(3, 3), layout="expand")
case("eye_", shape=(3, 4), rg=True)
case("eye_", shape=(3, 4), dtype="complex64")
case("eye_", shape=(4, 4), layout="slice", dtype="bfloat16")
# ---- dirac_
case("dirac_", shape=(3, 3))
case("dirac_", shape=(2, 2, 2, 2, 2, 2))
case("dirac_", shape=(5, 3, 3), groups=2)
case("dirac_", shape=(4, 3, 3), groups=0)
case("dirac_", shape=(4, 3, 3), groups=-1)
case("dirac_", shape=(0, 3, 3))
case("dirac_", shape=(2, 3, 0))
case("dirac_", shape=(4, 2, 3), dtype="int64")
case("dirac_", shape=(6, 4, 3, 3, 3), groups=3)
case("dirac_", shape=(4, 3, 3), groups=4)
case("dirac_", shape=(4, 3, 3), groups=8)
case("dirac_", shape=(6, 2, 3, 5), layout="t", groups=2)
case("dirac_", shape=(4, 4, 3), dtype="float16", layout="slice")
case("dirac_", shape=(4, 4, 3), layout="expand")
case("dirac_", shape=(4, 4, 3), rg=True)
# ---- xavier_*
for op in ["xavier_uniform_", "xavier_normal_"]:
    case(op, shape=(3,))
    case(op, shape=())
    case(op, shape=(0, 3))
    case(op, shape=(0, 0))
    case(op, shape=(2, 3, 0))
    case(op, gain=-1.0)
    case(op, gain=0.0)
    case(op, gain=float("inf"))
    case(op, dtype="int64")
    case(op, layout="expand")
    case(op, dtype="complex64")
    case(op, shape=(1, 1))
    case(op, shape=(4, 3, 2, 3, 2), dtype="float64", layout="t", gain=1.7)
    case(op, shape=(6, 5), dtype="float16")
    case(op, shape=(6, 5), dtype="bfloat16")
    case(op, shape=(6, 5), layout="slice", rg=True)
    case(op, shape=(6, 5), gen="global")
    case(op, shape=(64, 32), gain=1e30)
# ---- kaiming_*
for op in ["kaiming_uniform_", "kaiming_normal_"]:
    case(op, shape=(3,))
    case(op, shape=(0, 3))
    case(op, shape=(3, 0))
    case(op, shape=(0, 0))
    case(op, mode="fan_avg")
    case(op, nonlinearity="gelu")
    case(op, a=float("inf"))
    case(op, a=float("nan"))
    case(op, a=-0.5)
    case(op, a=0.2)
    case(op, a=5.0, nonlinearity="relu")
    case(op, nonlinearity="conv2d")
    for nl in ["linear", "selu", "tanh", "sigmoid", "relu"]:
        case(op, shape=(7, 3, 2), nonlinearity=nl, mode="fan_out")
    case(op, dtype="int64")
    case(op, layout="expand")
    case(op, dtype="complex64")
    case(op, shape=(1, 1))
    case(op, shape=(4, 3, 2, 3, 2), dtype="float64", layout="t", a=0.1, mode="fan_out")
    case(op, shape=(6, 5), dtype="float16")
    case(op, shape=(6, 5), dtype="bfloat16")
    case(op, shape=(6, 5), layout="slice", rg=True)
    case(op, shape=(6, 5), gen="global")
# ---- orthogonal_
case("orthogonal_", shape=(3,))
case("orthogonal_", shape=())
case("orthogonal_", shape=(0, 3))
case("orthogonal_", shape=(0, 0))
case("orthogonal_", shape=(3, 0))
case("orthogonal_", shape=(3, 7))
case("orthogonal_", shape=(7, 3))
case("orthogonal_", shape=(4, 3, 5))
case("orthogonal_", shape=(2, 3, 2, 2, 2), dtype="float64")
case("orthogonal_", shape=(1, 1))
case("orthogonal_", shape=(1, 5))
case("orthogonal_", gain=0.0)
case("orthogonal_", gain=-1.0)
case("orthogonal_", gain=float("inf"))
case("orthogonal_", dtype="float16")
case("orthogonal_", dtype="bfloat16")
case("orthogonal_", dtype="int64")
case("orthogonal_", dtype="complex64")
case("orthogonal_", layout="expand")
case("orthogonal_", shape=(5, 4), layout="t")
case("orthogonal_", shape=(6, 4, 3), layout="t", dtype="float64")
case("orthogonal_", shape=(5, 4), layout="slice", rg=True)
case("orthogonal_", shape=(5, 4), gen="global")
# ---- sparse_
case("sparse_", shape=(3,), sparsity=0.5)
case("sparse_", shape=(3, 3, 3), sparsity=0.5)
case("sparse_", shape=(0, 3), sparsity=0.5)
case("sparse_", shape=(3, 0), sparsity=0.5)
case("sparse_", shape=(6, 5), sparsity=0.0)
case("sparse_", shape=(6, 5), sparsity=1.0)
case("sparse_", shape=(6, 5), sparsity=0.5)
case("sparse_", shape=(6, 5), sparsity=0.5, global_seed=7)
case("sparse_", shape=(6, 5), sparsity=0.5, gen="global")
case("sparse_", shape=(6, 5), sparsity=0.5, gen="global_as_generator", global_seed=7)
case("sparse_", shape=(6, 5), sparsity=0.0, gen="global_as_generator", global_seed=7)
case("sparse_", shape=(6, 5), sparsity=1.0, gen="global_as_generator", global_seed=7)
case("sparse_", shape=(6, 5), sparsity=-0.5)
case("sparse_", shape=(6, 5), sparsity=2.0)
case("sparse_", shape=(6, 5), sparsity=float("nan"))
case("sparse_", shape=(6, 5), sparsity=0.3, std=0.0)
case("sparse_", shape=(6, 5), sparsity=0.3, std=-1.0)
case("sparse_", shape=(6, 5), sparsity=0.3, std=float("inf"))
case("sparse_", shape=(6, 5), sparsity=0.3, dtype="int64")
case("sparse_", shape=(6, 5), sparsity=0.3, dtype="float16", gen="global_as_generator", global_seed=7)
case("sparse_", shape=(6, 5), sparsity=0.3, dtype="bfloat16", gen="global_as_generator", global_seed=7)
case("sparse_", shape=(6, 5), sparsity=0.3, dtype="float64", layout="t", gen="global_as_generator", global_seed=7)
case("sparse_", shape=(6, 5), sparsity=0.3, layout="expand")
case("sparse_", shape=(6, 5), sparsity=0.3, rg=True, layout="slice", gen="global_as_generator", global_seed=7)
case("sparse_", shape=(1, 1), sparsity=0.5, gen="global_as_generator", global_seed=7)


def run(c):
    out = dict(c)
    out["args"] = js(c["args"])
    out["id"] = f"{len(RESULTS):03d}_{c['op']}"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            if c["op"] == "calculate_gain":
                r = init.calculate_gain(c["args"]["nonlinearity"], c["args"]["param"])
                out["result"] = dict(ok=True, value=r if math.isfinite(r) else str(r))
            elif c["op"] == "fans":
                fi, fo = init._calculate_fan_in_and_fan_out(torch.empty(c["shape"]))
                out["result"] = dict(ok=True, fan_in=fi, fan_out=fo)
            else:
                t = make(c["shape"], c["dtype"], c["layout"], c["requires_grad"])
                before = raw(t)
                torch.manual_seed(c["global_seed"])
                g = torch.Generator().manual_seed(c["seed"]) if c["gen"] == "generator" else None
                try:
                    r = call(c["op"], t, c["args"], g)
                    assert r is t
                    b = raw(t)
                    out["result"] = dict(ok=True, sha256=hashlib.sha256(b).hexdigest(), values=base64.b64encode(b).decode())
                except Exception:
                    out["unchanged_before_raise"] = raw(t) == before
                    raise
        except Exception as e:
            out["result"] = dict(ok=False, exc=type(e).__name__, msg=str(e)[:300], **({"unchanged": out.pop("unchanged_before_raise")} if "unchanged_before_raise" in out else {}))
        out["warnings"] = sorted({str(x.message) for x in w})
    return out


RESULTS = []
for c in CASES:
    RESULTS.append(run(c))

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "tests", "TorchInit.Tests", "Fixtures", "core-trial", "cases.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(dict(torch_version=torch.__version__, case_count=len(RESULTS), cases=RESULTS), f, indent=1, allow_nan=True)
print(len(RESULTS), "cases;", sum(1 for r in RESULTS if not r["result"]["ok"]), "refused")
