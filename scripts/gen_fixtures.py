#!/usr/bin/env python3
"""Reference fixtures for TorchInit, produced by real PyTorch.

Runs PyTorch (Debian 13's python3-torch 2.6, /usr/bin/python3; scripts/prereqs.sh --with-pytorch installs it) on a broad, deterministic case list and writes
seeds, shapes, arguments and the resulting tensors (float32/float64 little-endian, base64, plus a
SHA-256 and statistics) to tests/TorchInit.Tests/Fixtures/torch_reference.json. The xunit suite checks
TorchInit against these bit for bit; CI regenerates the file and fails if it differs from the committed one.

Case kinds
  tensor        one torch.nn.init function on a fresh tensor after torch.manual_seed(seed)
  layer         a TorchInit scheme on one layer, written as the torch.nn.init calls it stands for
  default_init  PyTorch's own constructor init after torch.manual_seed(seed) (= InitScheme.TorchDefault)
  model         a scheme on every Linear/Conv of a Sequential, in pre-order, weight then bias
  orthogonal    torch.nn.init.orthogonal_ on a fresh tensor after torch.manual_seed(seed)
  auto_model    InitPolicy.Auto on a zoo model: the expected per-layer decision (activation, how it is found,
                scheme, gain) written out by hand, and PyTorch applying exactly those choices in pre-order
  tensor_layout a torch.nn.init function or TorchInit scheme on a small tensor (1-17 elements) or a non-contiguous
                view (transpose, strided slice, permutation), float32 and float64, after torch.manual_seed(seed)
  erfinv        erfinv_ of PyTorch's uniform_ draws (what trunc_normal_ computes), float32 and float64
  structured    eye_, dirac_, sparse_ (normal_ and randperm both from the seeded global generator) and
                delta-orthogonal (w.zero_(); orthogonal_(kernel centre of w, gain)) after torch.manual_seed(seed)
  transformer   a policy (TorchDefault, Auto, HeNormal, the GPT-2 / BERT / ViT presets) on a transformer zoo model
                (nn.MultiheadAttention, nn.TransformerEncoder/Decoder(Layer), nn.Transformer, a tied embedding): PyTorch applies
                each parameter's rule in named_parameters() order (deduplicated, so a tied weight once) after
                torch.manual_seed(seed); "written" lists the parameters written, "truncated" those drawn by trunc_normal_
  lsuv          LSUV (Mishkin & Matas 2016) on a deep plain net: orthogonal_ weights and zero biases in pre-order after
                torch.manual_seed(seed), a batch randn(128, 64) from its own seed, then layer by layer in forward order
                W *= sqrt(1 / Var(output)) (float64, unbiased) until |Var - 1| < 0.1 or 10 rescalings; per-layer scales

Usage: /usr/bin/python3 scripts/gen_fixtures.py [--out PATH] [--check]
"""
import argparse, base64, hashlib, json, math, random, sys, warnings

import torch
import torch.nn as nn
import torch.nn.init as init

TRUNC_STD_OF_UNIT = 0.87962566103423978  # std of N(0,1) truncated to [-2, 2]
MASTER_SEED = 20261123
GAIN_NAMES = {"Linear": "linear", "Sigmoid": "sigmoid", "Tanh": "tanh", "Relu": "relu", "LeakyRelu": "leaky_relu", "Selu": "selu"}

# TorchInit schemes as data: (fan mode, distribution, default nonlinearity)
SCHEMES = {
    "GlorotUniform": ("FanAvg", "Uniform", "Linear"),
    "GlorotNormal": ("FanAvg", "Normal", "Linear"),
    "GlorotTruncatedNormal": ("FanAvg", "TruncatedNormal", "Linear"),
    "HeUniform": ("FanIn", "Uniform", "Relu"),
    "HeNormal": ("FanIn", "Normal", "Relu"),
    "HeTruncatedNormal": ("FanIn", "TruncatedNormal", "Relu"),
    "LeCunUniform": ("FanIn", "Uniform", "Linear"),
    "LeCunNormal": ("FanIn", "Normal", "Linear"),
    "LeCunTruncatedNormal": ("FanIn", "TruncatedNormal", "Linear"),
}


def encode(t):
    t = t.detach().contiguous()
    raw = t.numpy().astype("<f4" if t.dtype == torch.float32 else "<f8").tobytes()
    return {
        "dtype": "float32" if t.dtype == torch.float32 else "float64",
        "shape": list(t.shape),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "mean": float(t.double().mean()) if t.numel() else 0.0,
        "std": float(t.double().std()) if t.numel() > 1 else 0.0,
        "values": base64.b64encode(raw).decode("ascii"),
    }


def gain_of(nonlinearity, slope):
    return init.calculate_gain(GAIN_NAMES[nonlinearity], slope if nonlinearity == "LeakyRelu" else None)


def layer_fans(layer, convention):
    """PyTorch's fans, or the layer's true fans (in/groups, out/groups) x receptive field."""
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(layer.weight)
    if convention == "torch" or isinstance(layer, nn.Linear):
        return fan_in, fan_out
    rf = layer.weight[0][0].numel()
    return layer.in_channels // layer.groups * rf, layer.out_channels // layer.groups * rf


def variance_scaling_(w, gain, mode, dist, fan_in, fan_out):
    """torch.nn.init's formulas with explicit fans (same floating-point order as xavier_*/kaiming_*)."""
    if mode == "FanAvg":
        std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    else:
        std = gain / math.sqrt(fan_in if mode == "FanIn" else fan_out)
    with torch.no_grad():
        if dist == "Normal":
            w.normal_(0, std)
        elif dist == "Uniform":
            bound = math.sqrt(3.0) * std
            w.uniform_(-bound, bound)
        else:
            s = std / TRUNC_STD_OF_UNIT
            init.trunc_normal_(w, 0.0, s, -2 * s, 2 * s)


def apply_scheme_(layer, scheme, nonlinearity, slope, convention, bias_policy):
    """What TorchInit's ApplyInit(scheme) does to one layer, in PyTorch."""
    w = layer.weight
    if scheme == "TorchDefault":
        fan_in, fan_out = layer_fans(layer, convention)
        if convention == "torch":
            init.kaiming_uniform_(w, a=math.sqrt(5))
        else:
            variance_scaling_(w, gain_of("LeakyRelu", math.sqrt(5)), "FanIn", "Uniform", fan_in, fan_out)
    elif scheme.startswith("Normal("):
        init.normal_(w, 0.0, float(scheme[len("Normal(0, "):-1]))
    elif scheme == "Zeros":
        init.zeros_(w)
    else:
        mode, dist, _ = SCHEMES[scheme]
        gain = gain_of(nonlinearity, slope)
        fan_in, fan_out = layer_fans(layer, convention)
        if convention == "torch" and dist != "TruncatedNormal":
            # The real torch.nn.init functions: the reference is PyTorch itself.
            name = GAIN_NAMES[nonlinearity]
            if mode == "FanAvg":
                (init.xavier_uniform_ if dist == "Uniform" else init.xavier_normal_)(w, gain=gain)
            else:
                fn = init.kaiming_uniform_ if dist == "Uniform" else init.kaiming_normal_
                fn(w, a=(slope if slope is not None else 0.01) if name == "leaky_relu" else 0,
                   mode="fan_in" if mode == "FanIn" else "fan_out", nonlinearity=name)
        else:
            variance_scaling_(w, gain, mode, dist, fan_in, fan_out)
    if layer.bias is not None:
        if bias_policy == "TorchDefault":
            fan_in, _ = layer_fans(layer, convention)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(layer.bias, -bound, bound)
        else:
            init.zeros_(layer.bias)


def make_layer(spec, dtype=torch.float32):
    k = spec["kind"]
    if k == "Linear":
        return nn.Linear(spec["in"], spec["out"], bias=spec["bias"], dtype=dtype)
    cls = getattr(nn, k)
    return cls(spec["in"], spec["out"], tuple(spec["kernel"]), stride=spec.get("stride", 1),
               groups=spec["groups"], bias=spec["bias"], dtype=dtype)


def random_layer_spec(rng, kind=None):
    kind = kind or rng.choice(["Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"])
    if kind == "Linear":
        return {"kind": kind, "in": rng.randint(1, 64), "out": rng.randint(1, 64), "bias": rng.random() < 0.8}
    dims = int(kind[-2])
    groups = rng.choice([1, 1, 2, 3, 4])
    cin = groups * rng.randint(1, 4)
    cout = groups * rng.randint(1, 4)
    maxk = 3 if dims == 3 else 5
    kernel = [rng.choice([1, rng.randint(1, maxk)]) for _ in range(dims)]  # 1x1 and non-square kernels
    return {"kind": kind, "in": cin, "out": cout, "kernel": kernel, "stride": rng.randint(1, 2),
            "groups": groups, "bias": rng.random() < 0.8}


def tensor_cases(rng):
    shapes = [[3, 5], [4, 4], [1, 1], [2, 7], [16, 1], [64, 32], [17, 33], [8, 4, 3], [6, 3, 5, 5],
              [12, 4, 1, 1], [5, 2, 3, 2], [4, 3, 3, 3, 3], [2, 9, 1, 7], [128, 64], [300, 20]]
    shapes += [[rng.randint(1, 40), rng.randint(1, 40)] for _ in range(6)]
    shapes += [[rng.randint(1, 12), rng.randint(1, 12), rng.randint(1, 5), rng.randint(1, 5)] for _ in range(6)]
    ops = [
        ("xavier_uniform_", {"gain": 1.0}), ("xavier_uniform_", {"gain": 5.0 / 3}),
        ("xavier_normal_", {"gain": 1.0}), ("xavier_normal_", {"gain": math.sqrt(2.0)}),
        ("kaiming_uniform_", {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
        ("kaiming_uniform_", {"a": math.sqrt(5), "mode": "fan_in", "nonlinearity": "leaky_relu"}),
        ("kaiming_uniform_", {"a": 0.0, "mode": "fan_out", "nonlinearity": "relu"}),
        ("kaiming_normal_", {"a": 0.0, "mode": "fan_in", "nonlinearity": "relu"}),
        ("kaiming_normal_", {"a": 0.0, "mode": "fan_out", "nonlinearity": "relu"}),
        ("kaiming_normal_", {"a": 0.2, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
        ("kaiming_normal_", {"a": 0.0, "mode": "fan_in", "nonlinearity": "tanh"}),
        ("kaiming_normal_", {"a": 0.0, "mode": "fan_in", "nonlinearity": "selu"}),
        ("kaiming_uniform_", {"a": 0.0, "mode": "fan_in", "nonlinearity": "sigmoid"}),
        ("kaiming_normal_", {"a": 0.0, "mode": "fan_in", "nonlinearity": "linear"}),
        ("trunc_normal_", {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0}),
        ("trunc_normal_", {"mean": 0.0, "std": 0.02, "a": -2.0, "b": 2.0}),
        ("trunc_normal_", {"mean": 0.5, "std": 0.3, "a": 0.0, "b": 1.0}),
        ("normal_", {"mean": 0.0, "std": 0.01}), ("normal_", {"mean": 1.0, "std": 2.0}),
        ("uniform_", {"a": -0.1, "b": 0.3}),
    ]
    cases = []
    for i, (op, args) in enumerate(ops):
        for j in range(4):
            shape = shapes[(i * 7 + j * 5) % len(shapes)]
            dtype = torch.float64 if (i + j) % 9 == 4 else torch.float32
            seed = rng.randint(0, 2**31 - 1)
            t = torch.empty(shape, dtype=dtype)
            torch.manual_seed(seed)
            getattr(init, op)(t, **args)
            cases.append({"id": f"tensor-{len(cases):03d}-{op}", "kind": "tensor", "op": op, "args": args,
                          "seed": seed, "result": encode(t)})
    return cases


def layer_cases(rng):
    cases = []
    kinds = ["Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]
    schemes = list(SCHEMES) + ["TorchDefault", "Normal(0, 0.01)", "Normal(0, 1)", "Zeros"]
    nonlins = [(None, None), ("Tanh", None), ("LeakyRelu", 0.2), ("Sigmoid", None), ("Selu", None), ("LeakyRelu", None)]
    for i in range(84):
        spec = random_layer_spec(rng, kinds[i % len(kinds)])
        scheme = schemes[i % len(schemes)]
        nl, slope = nonlins[(i // len(schemes)) % len(nonlins)] if scheme in SCHEMES else (None, None)
        nonlinearity = nl or (SCHEMES[scheme][2] if scheme in SCHEMES else None)
        convention = "layer" if (i % 3 == 2 and spec["kind"] != "Linear") else "torch"
        bias_policy = "TorchDefault" if scheme == "TorchDefault" or i % 5 == 0 else "Zeros"
        seed = rng.randint(0, 2**31 - 1)
        layer = make_layer(spec)
        torch.manual_seed(seed)
        with torch.no_grad():
            apply_scheme_(layer, scheme, nonlinearity, slope, convention, bias_policy)
        fan_in, fan_out = layer_fans(layer, convention)
        case = {"id": f"layer-{len(cases):03d}-{spec['kind']}-{scheme}", "kind": "layer", "layer": spec,
                "scheme": scheme, "nonlinearity": nl, "slope": slope, "fan_convention": convention,
                "bias_policy": bias_policy, "seed": seed, "fan_in": fan_in, "fan_out": fan_out,
                "weight": encode(layer.weight)}
        if layer.bias is not None:
            case["bias"] = encode(layer.bias)
        cases.append(case)
    return cases


def default_init_cases(rng):
    cases = []
    for i in range(21):
        spec = random_layer_spec(rng, ["Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"][i % 7])
        seed = rng.randint(0, 2**31 - 1)
        torch.manual_seed(seed)
        layer = make_layer(spec)
        case = {"id": f"default-{len(cases):03d}-{spec['kind']}", "kind": "default_init", "layer": spec, "seed": seed,
                "weight": encode(layer.weight)}
        if layer.bias is not None:
            case["bias"] = encode(layer.bias)
        cases.append(case)
    return cases


MODELS = {
    "mlp": lambda: nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 10)),
    "cnn": lambda: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, (3, 1), groups=2), nn.ReLU(),
                                 nn.Flatten(), nn.Linear(8 * 6 * 8, 10)),
    "nested": lambda: nn.Sequential(nn.Sequential(nn.Linear(6, 12), nn.ReLU()),
                                    nn.Sequential(nn.Conv1d(1, 4, 3), nn.ConvTranspose1d(4, 2, 2)), nn.Linear(12, 3)),
}


def model_cases(rng):
    cases = []
    for name in MODELS:
        for scheme in ["HeNormal", "GlorotUniform", "LeCunTruncatedNormal", "TorchDefault"]:
            seed = rng.randint(0, 2**31 - 1)
            model = MODELS[name]()
            torch.manual_seed(seed)
            with torch.no_grad():
                for m in model.modules():  # pre-order
                    if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d,
                                      nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
                        apply_scheme_(m, scheme, SCHEMES[scheme][2] if scheme in SCHEMES else None, None, "torch",
                                      "TorchDefault" if scheme == "TorchDefault" else "Zeros")
            cases.append({"id": f"model-{name}-{scheme}", "kind": "model", "model": name, "scheme": scheme, "seed": seed,
                          "parameters": [[n, encode(p)] for n, p in model.named_parameters()]})
    return cases


def orthogonal_cases(rng):
    shapes = [[4, 4], [8, 3], [3, 8], [16, 16], [6, 2, 3, 3], [32, 32], [5, 1], [1, 5], [64, 16], [16, 64], [48, 48], [12, 4, 3]]
    gains = [1.0, 1.0, 5.0 / 3, math.sqrt(2.0)]
    cases = []
    for i, shape in enumerate(shapes):
        dtype = torch.float64 if i % 5 == 3 else torch.float32
        gain = gains[i % len(gains)]
        seed = rng.randint(0, 2**31 - 1)
        t = torch.empty(shape, dtype=dtype)
        torch.manual_seed(seed)
        init.orthogonal_(t, gain=gain)
        cases.append({"id": f"orthogonal-{len(cases):03d}", "kind": "orthogonal", "gain": gain, "seed": seed, "result": encode(t)})
    return cases


# ----------------------------------------------------------------------------------------------- layouts
# Small tensors (libtorch's normal_ takes a scalar path below 16 elements) and non-contiguous views (the scalar
# path too, whatever the size), in both dtypes; truncated normals also on larger float64 tensors. A layout is
# {"base": shape, "view": None | "t" | ["slice", dim, start, step] | ["permute", dims]}: the tensor is
# torch.empty(base) seen through that view, and the result is the view's values.

LAYOUTS_2D = [
    {"base": [1, 1], "view": None}, {"base": [1, 2], "view": None}, {"base": [2, 1], "view": None},
    {"base": [3, 4], "view": None}, {"base": [2, 7], "view": None}, {"base": [1, 15], "view": None},
    {"base": [5, 3], "view": None}, {"base": [2, 2, 3], "view": None}, {"base": [3, 1, 2, 2], "view": None},
    {"base": [4, 4], "view": None}, {"base": [17, 1], "view": None},
    {"base": [4, 3], "view": "t"}, {"base": [7, 2], "view": "t"}, {"base": [20, 10], "view": "t"},
    {"base": [6, 10], "view": ["slice", 1, 0, 2]}, {"base": [3, 8], "view": ["slice", 1, 1, 3]},
    {"base": [16, 4], "view": ["slice", 0, 0, 2]}, {"base": [3, 3, 4, 6], "view": ["permute", [3, 2, 0, 1]]},
]
LAYOUTS_1D = [{"base": [1], "view": None}, {"base": [7], "view": None}, {"base": [15], "view": None},
              {"base": [30], "view": ["slice", 0, 1, 3]}]
LAYOUTS_LARGE = [{"base": [17, 33], "view": None}, {"base": [64, 32], "view": None}, {"base": [40, 30], "view": "t"}]

LAYOUT_OPS = [
    ("normal_", {"mean": 0.0, "std": 0.01}), ("normal_", {"mean": 1.0, "std": 2.0}),
    ("uniform_", {"a": -0.1, "b": 0.3}),
    ("xavier_uniform_", {"gain": 1.0}), ("xavier_normal_", {"gain": math.sqrt(2.0)}),
    ("kaiming_uniform_", {"a": math.sqrt(5), "mode": "fan_in", "nonlinearity": "leaky_relu"}),
    ("kaiming_normal_", {"a": 0.0, "mode": "fan_in", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 0.2, "mode": "fan_out", "nonlinearity": "leaky_relu"}),
    ("trunc_normal_", {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0}),
    ("trunc_normal_", {"mean": 0.5, "std": 0.3, "a": 0.0, "b": 1.0}),
    ("trunc_normal_", {"mean": 0.0, "std": 0.02, "a": -0.04, "b": 0.04}),
    ("scheme", {"scheme": "HeTruncatedNormal"}), ("scheme", {"scheme": "GlorotTruncatedNormal"}),
    ("scheme", {"scheme": "LeCunTruncatedNormal"}), ("scheme", {"scheme": "GlorotNormal"}),
]
ELEMENTWISE = ("normal_", "uniform_", "trunc_normal_")
TRUNCATED = ("trunc_normal_", "scheme:HeTruncatedNormal", "scheme:GlorotTruncatedNormal", "scheme:LeCunTruncatedNormal")


def make_view(layout, dtype):
    t = torch.empty(layout["base"], dtype=dtype)
    v = layout["view"]
    if v is None:
        return t
    if v == "t":
        return t.t()
    if v[0] == "slice":
        _, dim, start, step = v
        return t[(slice(None),) * dim + (slice(start, None, step),)]
    return t.permute(*v[1])


def layout_cases(rng):
    cases = []
    for op, args in LAYOUT_OPS:
        key = op if op != "scheme" else "scheme:" + args["scheme"]
        layouts = LAYOUTS_2D + (LAYOUTS_1D if op in ELEMENTWISE else []) + \
            (LAYOUTS_LARGE if key.startswith(TRUNCATED) else [])
        for layout in layouts:
            for dtype in (torch.float32, torch.float64):
                seed = rng.randint(0, 2**31 - 1)
                t = make_view(layout, dtype)
                torch.manual_seed(seed)
                if op == "scheme":
                    mode, dist, nl = SCHEMES[args["scheme"]]
                    fan_in, fan_out = init._calculate_fan_in_and_fan_out(t)
                    variance_scaling_(t, gain_of(nl, None), mode, dist, fan_in, fan_out)
                else:
                    getattr(init, op)(t, **args)
                name = args["scheme"] if op == "scheme" else op
                cases.append({"id": f"layout-{len(cases):03d}-{name}", "kind": "tensor_layout", "op": op, "args": args,
                              "layout": layout, "contiguous": t.is_contiguous(), "seed": seed, "result": encode(t)})
    return cases


def erfinv_cases(rng):
    """erfinv on PyTorch's own uniform draws: U(-1, 1), and the range trunc_normal_(0, 1, -2, 2) draws from."""
    lo = math.erf(-2 / math.sqrt(2.0))
    cases = []
    for low, high in [(-1.0, 1.0), (lo, -lo)]:
        for dtype in (torch.float32, torch.float64):
            seed = rng.randint(0, 2**31 - 1)
            t = torch.empty(4096, dtype=dtype)
            torch.manual_seed(seed)
            t.uniform_(low, high).erfinv_()
            cases.append({"id": f"erfinv-{len(cases):03d}", "kind": "erfinv", "low": low, "high": high, "seed": seed,
                          "result": encode(t)})
    return cases


def centre(t):
    return t[(slice(None), slice(None)) + tuple(k // 2 for k in t.shape[2:])]


def structured_cases(rng):
    """eye_, dirac_, sparse_ and delta-orthogonal (w.zero_(); orthogonal_(w's kernel centre, gain)) after torch.manual_seed."""
    specs = [("eye_", [3, 5], {}), ("eye_", [5, 3], {}), ("eye_", [4, 4], {}), ("eye_", [1, 1], {}), ("eye_", [1, 7], {}),
             ("dirac_", [4, 4, 3], {"groups": 1}), ("dirac_", [6, 3, 3, 3], {"groups": 2}), ("dirac_", [8, 2, 3, 3, 3], {"groups": 4}),
             ("dirac_", [5, 7, 1, 2], {"groups": 1}), ("dirac_", [4, 2, 2, 2], {"groups": 1}), ("dirac_", [6, 4, 3], {"groups": 3}),
             ("dirac_", [3, 16, 5, 5], {"groups": 1}), ("dirac_", [3, 24, 5, 5], {"groups": 3}), ("dirac_", [2, 1, 4, 4, 2], {"groups": 2}),
             ("sparse_", [10, 5], {"sparsity": 0.1, "std": 0.01}), ("sparse_", [20, 30], {"sparsity": 0.5, "std": 0.01}),
             ("sparse_", [7, 3], {"sparsity": 0.0, "std": 1.0}), ("sparse_", [5, 4], {"sparsity": 1.0, "std": 0.01}),
             ("sparse_", [100, 8], {"sparsity": 0.9, "std": 0.02}), ("sparse_", [1, 6], {"sparsity": 0.3, "std": 0.5}),
             ("sparse_", [33, 17], {"sparsity": 0.25, "std": 0.1}),
             ("delta_orthogonal", [8, 8, 3], {"gain": 1.0}), ("delta_orthogonal", [16, 8, 3, 3], {"gain": math.sqrt(2.0)}),
             ("delta_orthogonal", [4, 12, 5, 5], {"gain": 1.0}), ("delta_orthogonal", [6, 6, 3, 3, 3], {"gain": 5.0 / 3}),
             ("delta_orthogonal", [32, 32, 3, 3], {"gain": 1.0}), ("delta_orthogonal", [5, 3, 2, 4], {"gain": 1.0})]
    cases = []
    for i, (op, shape, args) in enumerate(specs):
        for dtype in (torch.float32, torch.float64):
            if op == "eye_" and dtype == torch.float64 and i % 2:
                continue
            seed = rng.randint(0, 2**31 - 1)
            t = torch.empty(shape, dtype=dtype)
            torch.manual_seed(seed)
            if op == "delta_orthogonal":
                with torch.no_grad():
                    t.zero_()
                    init.orthogonal_(centre(t), gain=args["gain"])
            else:
                getattr(init, op)(t, **args)
            cases.append({"id": f"structured-{len(cases):03d}-{op}", "kind": "structured", "op": op, "args": args,
                          "seed": seed, "result": encode(t)})
    return cases


# ----------------------------------------------------------------------------------------------- auto zoo
# Each zoo model exists twice, here and in tests/TorchInit.Tests/Zoo.cs, with the same modules registered in
# the same order. PLANS say, per module with parameters and in pre-order, what InitPolicy.Auto must decide
# and therefore which torch.nn.init calls PyTorch makes: this is the reference, written by hand.

class TracedNet(nn.Module):
    """Custom forward calling registered activations, which are registered after the layers."""
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 64)
        self.fc2 = nn.Linear(64, 64)
        self.out = nn.Linear(64, 3)
        self.relu = nn.ReLU()
        self.tanh = nn.Tanh()

    def forward(self, x):
        return self.out(self.tanh(self.fc2(self.relu(self.fc1(x)))))


class Block(nn.Module):
    """A basic residual block: relu(bn2(conv2(relu(bn1(conv1(x))))) + x)."""
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.block1 = Block(16)
        self.block2 = Block(16)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.relu(self.bn(self.stem(x)))
        return self.fc(self.flat(self.pool(self.block2(self.block1(x)))))


class LstmClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 16, padding_idx=0)
        self.lstm = nn.LSTM(16, 32, batch_first=True)
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        _, (h, _) = self.lstm(self.emb(x))
        return self.fc(h[-1])


class FunctionalNet(nn.Module):
    """Activations applied functionally: invisible to hooks, so hints are needed."""
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 2)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def _shared_mlp():
    shared = nn.Linear(32, 32)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), shared, nn.Tanh(), shared, nn.ReLU(), nn.Linear(32, 2))


ZOO = {
    "mlp": lambda: nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 64), nn.Tanh(),
                                 nn.Linear(64, 32), nn.Sigmoid(), nn.Linear(32, 10)),
    "cnn_bn": lambda: nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                                    nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                                    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)),
    "nested": lambda: nn.Sequential(nn.Sequential(nn.Linear(8, 32), nn.Dropout(0.1)),
                                    nn.Sequential(nn.ReLU(), nn.Linear(32, 32)),
                                    nn.Sequential(nn.Sequential(nn.Linear(32, 24)), nn.Identity()),
                                    nn.Tanh(), nn.Linear(24, 4)),
    "leaky": lambda: nn.Sequential(nn.Linear(10, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1)),
    "selu": lambda: nn.Sequential(nn.Linear(10, 64), nn.SELU(), nn.AlphaDropout(0.1), nn.Linear(64, 64), nn.SELU(), nn.Linear(64, 5)),
    "activations": lambda: nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 32), nn.SiLU(), nn.Linear(32, 32), nn.Mish(),
                                         nn.Linear(32, 32), nn.ELU(), nn.Linear(32, 32), nn.CELU(), nn.Linear(32, 32), nn.ReLU6(),
                                         nn.Linear(32, 32), nn.RReLU(), nn.Linear(32, 32), nn.PReLU(), nn.Linear(32, 8), nn.Softmax(dim=1)),
    "shared": _shared_mlp,
    "embedding": lambda: nn.Sequential(nn.Embedding(50, 8, padding_idx=3), nn.Flatten(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3)),
    "traced": TracedNet,
    "residual": ResNet,
    "lstm": LstmClassifier,
    "functional": FunctionalNet,
}

RELU_GAIN = init.calculate_gain("relu")


def he(act, source, slope=None):
    return ("he", act, source, "HeNormal", init.calculate_gain("leaky_relu", slope) if slope is not None else RELU_GAIN, slope)


def glorot(act, source, nonlinearity="linear"):
    return ("glorot", act, source, "GlorotUniform", init.calculate_gain(nonlinearity), None)


def lecun(act, source):
    return ("lecun", act, source, "LeCunNormal", 1.0, None)


OUT = glorot("(output)", "Assumed")
NORM = ("norm", "", "Intrinsic", "ones", None, 1.0)
ZERO_NORM = ("norm", "", "Intrinsic", "zeros", None, 0.0)
SEQ, TRACED, HINT = "Sequential", "Traced", "Hint"

# (zoo model, policy, traced?) -> [(module path, decision)] in pre-order over modules that own parameters.
# Policies: "auto" = InitPolicy.Auto; "resnet" = Auto + ZeroLastNormIn<Block>(); "lstm" = Auto + ForgetGateBias(1);
# "hints" = Auto + Hint("fc1", Relu) + Hint("fc2", Relu).
PLANS = [
    ("mlp", "auto", False, [("0", he("ReLU", SEQ)), ("3", glorot("Tanh", SEQ, "tanh")), ("5", glorot("Sigmoid", SEQ, "sigmoid")), ("7", OUT)]),
    ("cnn_bn", "auto", False, [("0", he("ReLU", SEQ)), ("1", NORM), ("4", he("ReLU", SEQ)), ("5", NORM), ("9", OUT)]),
    ("nested", "auto", False, [("0.0", he("ReLU", SEQ)), ("1.1", glorot("linear", SEQ)), ("2.0.0", glorot("Tanh", SEQ, "tanh")), ("4", OUT)]),
    ("leaky", "auto", False, [("0", he("LeakyReLU(0.2)", SEQ, 0.2)), ("2", he("LeakyReLU(0.2)", SEQ, 0.2)), ("4", OUT)]),
    ("selu", "auto", False, [("0", lecun("SELU", SEQ)), ("3", lecun("SELU", SEQ)), ("5", OUT)]),
    ("activations", "auto", False, [("0", he("GELU", SEQ)), ("2", he("SiLU", SEQ)), ("4", he("Mish", SEQ)), ("6", he("ELU", SEQ)),
                                    ("8", he("CELU", SEQ)), ("10", he("ReLU6", SEQ)), ("12", he("RReLU", SEQ)),
                                    ("14", he("PReLU(0.25)", SEQ, 0.25)), ("15", ("keep", "", "Intrinsic", "keep", None, None)),
                                    ("16", glorot("Softmax", "Assumed"))]),
    ("shared", "auto", False, [("0", he("ReLU", SEQ)), ("2", glorot("Tanh", SEQ, "tanh")), ("6", OUT)]),
    ("embedding", "auto", False, [("0", ("embedding", "", "Intrinsic", "Normal(0, 1)", None, 3)), ("2", he("ReLU", SEQ)), ("4", OUT)]),
    ("traced", "auto", True, [("fc1", he("ReLU", TRACED)), ("fc2", glorot("Tanh", TRACED, "tanh")), ("out", OUT)]),
    ("residual", "resnet", True, [("stem", he("ReLU", TRACED)), ("bn", NORM),
                                  ("block1.conv1", he("ReLU", TRACED)), ("block1.bn1", NORM), ("block1.conv2", he("ReLU", TRACED)), ("block1.bn2", ZERO_NORM),
                                  ("block2.conv1", he("ReLU", TRACED)), ("block2.bn1", NORM), ("block2.conv2", he("ReLU", TRACED)), ("block2.bn2", ZERO_NORM),
                                  ("fc", OUT)]),
    ("lstm", "lstm", True, [("emb", ("embedding", "", "Intrinsic", "Normal(0, 1)", None, 0)),
                            ("lstm", ("lstm", "Sigmoid", "Intrinsic", "GlorotUniform", 1.0, 1.0)), ("fc", OUT)]),
    ("functional", "hints", True, [("fc1", he("ReLU", HINT)), ("fc2", he("ReLU", HINT)), ("fc3", OUT)]),
]


def apply_plan_(model, plan):
    """PyTorch applying the planned choices by hand, in pre-order, weight then bias (torch.manual_seed before)."""
    modules = dict(model.named_modules())
    owners = [n for n, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))]
    assert owners == [p for p, _ in plan], (owners, [p for p, _ in plan])
    with torch.no_grad():
        for path, (action, _act, _source, _scheme, gain, extra) in plan:
            m = modules[path]
            if action == "he":
                if extra is None:
                    init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                else:
                    init.kaiming_normal_(m.weight, a=extra, mode="fan_in", nonlinearity="leaky_relu")
            elif action == "glorot":
                init.xavier_uniform_(m.weight, gain=gain)
            elif action == "lecun":
                init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="linear")
            elif action == "norm":
                init.constant_(m.weight, extra)
            elif action == "embedding":
                init.normal_(m.weight)
                m.weight[extra].zero_()
            elif action == "keep":
                pass
            elif action == "lstm":
                # Per gate block, in named_parameters() order: weight_ih (xavier_uniform_ per block),
                # weight_hh (orthogonal_ per block), bias_ih (0, forget gate = extra), bias_hh (0).
                for name, p in m.named_parameters():
                    h = m.hidden_size
                    if name.startswith("weight_ih"):
                        for k in range(4):
                            init.xavier_uniform_(p[k * h:(k + 1) * h], gain=gain)
                    elif name.startswith("weight_hh"):
                        for k in range(4):
                            init.orthogonal_(p[k * h:(k + 1) * h])
                    elif name.startswith("bias_ih"):
                        init.zeros_(p)
                        p[h:2 * h].fill_(extra)
                    else:
                        init.zeros_(p)
                continue
            else:
                raise ValueError(action)
            if action not in ("keep", "embedding", "norm") and m.bias is not None:
                init.zeros_(m.bias)
            if action == "norm" and m.bias is not None:
                init.zeros_(m.bias)


def auto_model_cases(rng):
    cases = []
    for name, policy, traced, plan in PLANS:
        seed = rng.randint(0, 2**31 - 1)
        model = ZOO[name]()
        torch.manual_seed(seed)
        apply_plan_(model, plan)
        decisions = [[path, act, source, scheme, gain]
                     for path, (action, act, source, scheme, gain, _extra) in plan]
        cases.append({"id": f"auto-{name}", "kind": "auto_model", "model": name, "policy": policy, "traced": traced, "seed": seed,
                      "decisions": decisions,
                      "approximate": [n for n, _ in model.named_parameters() if "weight_hh" in n],
                      "parameters": [[n, encode(p)] for n, p in model.named_parameters()]})
    return cases



# ---- transformers (kind "transformer") ----
# The models of tests/TorchInit.Tests/Zoo.cs (Transformers), built the same way. dropout 0, PyTorch's default layout.

class EncoderClassifier(nn.Module):
    """Embedding, TransformerEncoder of 2 layers (relu), LayerNorm, Linear head: the model of the issue."""
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, 0.0), 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 4)


class TinyGpt(nn.Module):
    """Token and position embeddings, 2 causal gelu blocks, final LayerNorm, a head tied to the token embedding."""
    def __init__(self, vocab=64, d=16, context=8, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(context, d)
        self.blocks = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, 2, 4 * d, 0.0, activation="gelu"), layers, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight


class PatchVit(nn.Module):
    """A ViT-like model: its own position embedding (declared by the module: trunc_normal_ std 0.02), a patch convolution, one gelu block."""
    def __init__(self):
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, 4, 16))
        self.patch = nn.Conv2d(3, 16, 4, stride=4)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, 0.0, activation="gelu"), 1, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 10)


TRANSFORMER_ZOO = {
    "encoder_classifier": EncoderClassifier,
    "decoder_layer": lambda: nn.TransformerDecoderLayer(16, 2, 32, 0.0, activation="gelu"),
    "encoder_decoder": lambda: nn.Transformer(16, 2, 1, 1, 32, 0.0),
    "tiny_gpt": TinyGpt,
    "vit": PatchVit,
    "mha_kv": lambda: nn.MultiheadAttention(16, 2, add_bias_kv=True),
}

GPT_LAYERS = 2
RESIDUAL = ("out_proj", "linear2", "c_proj")


def _owner(model, name):
    path, _, pname = name.rpartition(".")
    return path, (model.get_submodule(path) if path else model), pname


def _inside_transformer(model, path):
    parts = path.split(".") if path else []
    return any(isinstance(model.get_submodule(".".join(parts[:k])) if k else model, nn.Transformer) for k in range(len(parts)))


def _torch_default_bias_(bias, weight):
    fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    init.uniform_(bias, -bound, bound)


def _preset_(p, m, pname, path, projection, embedding, conv=None, residual=None):
    """A fixed-scheme preset: projections (Linear, Conv, attention q/k/v as one tensor), embeddings, norms 1/0, biases 0."""
    if pname in ("bias", "in_proj_bias"):
        init.zeros_(p)
    elif isinstance(m, nn.LayerNorm):
        init.ones_(p)
    elif isinstance(m, nn.Embedding):
        embedding(p)
    elif isinstance(m, nn.Conv2d) and conv is not None:
        conv(p)
    elif residual is not None and path.rsplit(".", 1)[-1] in RESIDUAL:
        residual(p)
    else:
        projection(p)


def transformer_rule_(policy, model, name, p):
    """What TorchInit's policy writes into parameter `name` (None when it writes nothing), in PyTorch."""
    path, m, pname = _owner(model, name)
    if isinstance(model, PatchVit) and name == "pos_embed":
        init.trunc_normal_(p, std=0.02)  # the module's own declaration (IInitializable), under every policy
        return "trunc_normal"
    if policy == "torchdefault":
        if isinstance(m, nn.MultiheadAttention):
            if pname == "in_proj_bias":
                init.zeros_(p)
            elif pname in ("bias_k", "bias_v"):
                init.xavier_normal_(p)
            else:
                init.xavier_uniform_(p)
        elif isinstance(m, (nn.Linear, nn.Conv2d)):
            out_proj = path.endswith("out_proj")
            if pname == "weight":
                if _inside_transformer(model, path):
                    init.xavier_uniform_(p)
                else:
                    init.kaiming_uniform_(p, a=math.sqrt(5))
            elif out_proj:
                init.zeros_(p)
            else:
                _torch_default_bias_(p, m.weight)
        else:
            return None
        return "torch"
    if policy in ("auto", "auto_gelu", "henormal"):
        he = policy == "henormal"
        if isinstance(m, nn.MultiheadAttention):
            if pname == "in_proj_weight":
                d = p.shape[0] // 3
                for k in range(3):
                    (init.kaiming_normal_(p[k * d:(k + 1) * d], nonlinearity="relu") if he else init.xavier_uniform_(p[k * d:(k + 1) * d]))
            elif pname == "in_proj_bias":
                init.zeros_(p)
            elif pname in ("bias_k", "bias_v"):
                init.xavier_normal_(p)
            else:
                return None
        elif isinstance(m, (nn.Linear, nn.Conv2d)):
            if pname == "bias":
                init.zeros_(p)
            elif he or path.endswith("linear1"):
                init.kaiming_normal_(p, nonlinearity="relu")
            else:
                init.xavier_uniform_(p)  # out_proj, linear2 (residual sum), heads and patches (assumed: not in a Sequential)
        elif he:
            return None
        elif isinstance(m, nn.Embedding):
            # A weight tied to a Linear (a language model's head) is decided by that Linear's rule: the output layer's
            # assumed xavier_uniform_ (the head's fans: fan_in = d, fan_out = vocab), not the embedding's N(0, 1).
            tied = any(isinstance(o, nn.Linear) and o.weight is p for o in model.modules())
            (init.xavier_uniform_ if tied else init.normal_)(p)
        elif isinstance(m, nn.LayerNorm):
            (init.ones_ if pname == "weight" else init.zeros_)(p)
        else:
            return None
        return "auto"
    normal = lambda std: (lambda t: init.normal_(t, 0.0, std))
    trunc = lambda std, a, b: (lambda t: init.trunc_normal_(t, 0.0, std, a, b))
    if policy == "gpt2":
        _preset_(p, m, pname, path, normal(0.02), normal(0.02), residual=normal(0.02 / math.sqrt(2 * GPT_LAYERS)))
        return "gpt2"
    if policy == "bert":
        _preset_(p, m, pname, path, normal(0.02), normal(0.02))
        return "bert"
    if policy == "bert_truncated":
        _preset_(p, m, pname, path, trunc(0.02, -0.04, 0.04), trunc(0.02, -0.04, 0.04))
        return "trunc_normal"
    if policy == "vit":
        def lecun_truncated(t):
            fan_in, _ = init._calculate_fan_in_and_fan_out(t)
            s = (1.0 / math.sqrt(fan_in)) / TRUNC_STD_OF_UNIT
            init.trunc_normal_(t, 0.0, s, -2 * s, 2 * s)
        _preset_(p, m, pname, path, trunc(0.02, -2.0, 2.0), trunc(0.02, -2.0, 2.0), conv=lecun_truncated)
        return "trunc_normal" if pname not in ("bias", "in_proj_bias") and not isinstance(m, nn.LayerNorm) else "vit"
    raise ValueError(policy)


# (model, policy): every model under TorchDefault and Auto; the presets on the models they are for.
TRANSFORMER_CASES = [(name, policy) for name in TRANSFORMER_ZOO for policy in ("torchdefault", "auto")] + [
    ("decoder_layer", "auto_gelu"), ("encoder_classifier", "henormal"),
    ("tiny_gpt", "gpt2"), ("encoder_decoder", "gpt2"), ("encoder_classifier", "bert"), ("encoder_classifier", "bert_truncated"),
    ("vit", "vit"),
]


def transformer_cases(rng):
    warnings.filterwarnings("ignore", message="enable_nested_tensor is True")  # nn.Transformer's own encoder
    cases = []
    for name, policy in TRANSFORMER_CASES:
        seed = rng.randint(0, 2**31 - 1)
        model = TRANSFORMER_ZOO[name]()
        torch.manual_seed(seed)
        written, truncated = [], []
        with torch.no_grad():
            for pname, p in model.named_parameters():
                kind = transformer_rule_(policy, model, pname, p)
                if kind is not None:
                    written.append(pname)
                if kind == "trunc_normal":
                    truncated.append(pname)
        cases.append({"id": f"transformer-{name}-{policy}", "kind": "transformer", "model": name, "policy": policy, "seed": seed,
                      "written": written, "truncated": truncated,
                      "parameters": [[n, encode(p)] for n, p in model.named_parameters() if n in written]})
    return cases



# ---- LSUV (kind "lsuv") ----

def _plain(depth, act, width=64, out=10):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), act()]
    return nn.Sequential(*layers, nn.Linear(width, out))


LSUV_ZOO = {
    "relu30": lambda: _plain(30, nn.ReLU),
    "tanh10": lambda: _plain(10, nn.Tanh),
    "hardswish10": lambda: _plain(10, nn.Hardswish),
}


def lsuv_(model, batch, target=1.0, tol=0.1, max_iter=10):
    """The algorithm of TorchInit's ApplyLsuv, in PyTorch: one row (path, iterations, var before, var after, scale) per layer."""
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    var = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, n=n: var.__setitem__(n, out.detach().double().var().item())) for n, m in linears]
    model.eval()
    rows = []
    with torch.no_grad():
        model(batch)
        for n, m in linears:
            before = v = var[n]
            scale, it = 1.0, 0
            while abs(v - target) >= tol and it < max_iter:
                if not (v > 0) or not math.isfinite(v):
                    break
                s = math.sqrt(target / v)
                m.weight.mul_(s)
                scale *= s
                it += 1
                model(batch)
                v = var[n]
            rows.append([n, it, before, v, scale])
    for h in hooks:
        h.remove()
    return rows


def lsuv_cases(rng):
    cases = []
    for name in LSUV_ZOO:
        seed, batch_seed = rng.randint(0, 2**31 - 1), rng.randint(0, 2**31 - 1)
        model = LSUV_ZOO[name]()
        torch.manual_seed(seed)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    init.orthogonal_(m.weight)
                    init.zeros_(m.bias)
        g = torch.Generator().manual_seed(batch_seed)
        batch = torch.randn(128, 64, generator=g)
        rows = lsuv_(model, batch)
        cases.append({"id": f"lsuv-{name}", "kind": "lsuv", "model": name, "seed": seed, "batch_seed": batch_seed,
                      "layers": [[n, it, round(b, 12), round(a, 12), round(sc, 12)] for n, it, b, a, sc in rows]})
    return cases


def self_check():
    """The explicit-fan formulas equal torch.nn.init's own where the fans agree."""
    for dist, fn in [("Normal", init.kaiming_normal_), ("Uniform", init.kaiming_uniform_)]:
        a, b = torch.empty(7, 5), torch.empty(7, 5)
        torch.manual_seed(1); fn(a, nonlinearity="relu")
        torch.manual_seed(1); variance_scaling_(b, math.sqrt(2.0), "FanIn", dist, 5, 7)
        assert torch.equal(a, b), dist
    a, b = torch.empty(7, 5), torch.empty(7, 5)
    torch.manual_seed(1); init.xavier_uniform_(a, gain=5.0 / 3)
    torch.manual_seed(1); variance_scaling_(b, 5.0 / 3, "FanAvg", "Uniform", 5, 7)
    assert torch.equal(a, b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="tests/TorchInit.Tests/Fixtures/torch_reference.json")
    ap.add_argument("--check", action="store_true", help="regenerate in memory and exit 1 if the file at --out differs")
    args = ap.parse_args()
    torch.set_num_threads(1)
    self_check()
    rng = random.Random(MASTER_SEED)
    cases = tensor_cases(rng) + layer_cases(rng) + default_init_cases(rng) + model_cases(rng)
    # The cases added later draw their seeds from their own streams, so the earlier cases stay as they were.
    cases += orthogonal_cases(random.Random(MASTER_SEED + 1)) + auto_model_cases(random.Random(MASTER_SEED + 2))
    cases += layout_cases(random.Random(MASTER_SEED + 3)) + erfinv_cases(random.Random(MASTER_SEED + 4))
    cases += structured_cases(random.Random(MASTER_SEED + 5))
    cases += transformer_cases(random.Random(MASTER_SEED + 6))
    cases += lsuv_cases(random.Random(MASTER_SEED + 7))
    doc = {"generator": "scripts/gen_fixtures.py", "torch_version": torch.__version__.split("+")[0],
           "trunc_std_of_unit": TRUNC_STD_OF_UNIT, "case_count": len(cases), "cases": cases}
    text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    if args.check:
        try:
            with open(args.out) as f:
                committed = f.read()
        except FileNotFoundError:
            committed = ""
        if committed != text:
            old = {c["id"]: c for c in json.loads(committed)["cases"]} if committed else {}
            diff = [c["id"] for c in cases if old.get(c["id"]) != c] + [i for i in old if i not in {c["id"] for c in cases}]
            print(f"fixtures differ from real PyTorch {torch.__version__}: {len(diff)} case(s), e.g. {diff[:5]}", file=sys.stderr)
            return 1
        print(f"fixtures match real PyTorch {torch.__version__}: {len(cases)} cases")
        return 0
    with open(args.out, "w") as f:
        f.write(text)
    kinds = {}
    for c in cases:
        kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
    print(f"wrote {args.out}: {len(cases)} cases {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
