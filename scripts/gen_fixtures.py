#!/usr/bin/env python3
"""Reference fixtures for TorchInit, produced by real PyTorch.

Runs PyTorch (Debian's python3-torch, /usr/bin/python3) on a broad, deterministic case list and writes
seeds, shapes, arguments and the resulting tensors (float32/float64 little-endian, base64, plus a
SHA-256 and statistics) to tests/TorchInit.Tests/Fixtures/torch_reference.json. The xunit suite checks
TorchInit against these bit for bit; CI regenerates the file and fails if it differs from the committed one.

Case kinds
  tensor        one torch.nn.init function on a fresh tensor after torch.manual_seed(seed)
  layer         a TorchInit scheme on one layer, written as the torch.nn.init calls it stands for
  default_init  PyTorch's own constructor init after torch.manual_seed(seed) (= InitScheme.TorchDefault)
  model         a scheme on every Linear/Conv of a Sequential, in pre-order, weight then bias

Usage: /usr/bin/python3 scripts/gen_fixtures.py [--out PATH] [--check]
"""
import argparse, base64, hashlib, json, math, random, sys

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
