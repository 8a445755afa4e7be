"""Shared pieces of the PyTorch twins of the TorchInit example trainers.

Everything here mirrors a C# counterpart in examples/TorchInit.Experiments, line for line where it matters for
bit-identical random numbers: the schemes (ExperimentScheme.cs, as torch.nn.init calls in pre-order, weight then
bias), the models (Models.cs; module names match), the synthetic data (ClusterStream.cs), the signal probe
(src/TorchInit/Probe/SignalProbe.cs) and the training step (Training.cs: cross-entropy, plain SGD).
"""
import collections
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init

SATURATION = 0.99


def _torch_default(m):
    # nn.Linear / nn.ConvNd reset_parameters(): kaiming_uniform_(a=sqrt(5)), bias U(+-1/sqrt(fan_in)).
    init.kaiming_uniform_(m.weight, a=math.sqrt(5))
    if m.bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(m.weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(m.bias, -bound, bound)


def _weights_then_zero_bias(draw):
    def apply(m):
        draw(m.weight)
        if m.bias is not None:
            init.zeros_(m.bias)
    return apply


# ExperimentScheme.cs, name by name.
SCHEMES = {
    "normal-0.01": _weights_then_zero_bias(lambda w: init.normal_(w, 0.0, 0.01)),
    "normal-1": _weights_then_zero_bias(lambda w: init.normal_(w, 0.0, 1.0)),
    "zeros": _weights_then_zero_bias(init.zeros_),
    "inv-sqrt-n": _weights_then_zero_bias(lambda w: init.kaiming_uniform_(w, a=math.sqrt(5))),
    "glorot": _weights_then_zero_bias(init.xavier_uniform_),
    "glorot-normal": _weights_then_zero_bias(init.xavier_normal_),
    "he": _weights_then_zero_bias(lambda w: init.kaiming_normal_(w, nonlinearity="relu")),
    "lecun": _weights_then_zero_bias(lambda w: init.kaiming_normal_(w, nonlinearity="linear")),
    "torch-default": _torch_default,
    "lsuv": _weights_then_zero_bias(init.orthogonal_),  # then lsuv() on a batch (apply_scheme)
    "delta-orthogonal": _weights_then_zero_bias(lambda w: _delta_orthogonal(w)),
}


def _delta_orthogonal(w):
    """Xiao et al. 2018 (TorchInit's DeltaOrthogonal, gain 1): zeros, an orthogonal [out, in] matrix at the kernel centre."""
    with torch.no_grad():
        w.zero_()
        init.orthogonal_(w[(slice(None), slice(None)) + tuple(k // 2 for k in w.shape[2:])])

LAYER_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def lsuv(model, batch, target=1.0, tol=0.1, max_iter=10):
    """TorchInit's ApplyLsuv after the orthogonal start (src/TorchInit/Apply/Lsuv.cs; Mishkin & Matas 2016): layer by layer in
    forward order, W *= sqrt(target / Var(output)) (float64, unbiased) until |Var - target| < tol or max_iter rescalings;
    eval mode and no_grad for the measuring passes, hooks removed, training flags restored."""
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, LAYER_TYPES)]
    var, order = {}, []

    def hook_for(n):
        def hook(mod, inputs, output):
            if n not in order:
                order.append(n)
            var[n] = output.detach().double().var().item()
        return hook

    flags = [(m, m.training) for m in model.modules()]
    hooks = [m.register_forward_hook(hook_for(n)) for n, m in layers]
    model.eval()
    try:
        with torch.no_grad():
            model(batch)
            modules = dict(layers)
            for n in list(order):
                v = var[n]
                it = 0
                while abs(v - target) >= tol and it < max_iter:
                    if not (v > 0) or not math.isfinite(v):
                        break
                    modules[n].weight.mul_(math.sqrt(target / v))
                    it += 1
                    model(batch)
                    v = var[n]
    finally:
        for h in hooks:
            h.remove()
        for m, t in flags:
            m.train(t)


def apply_scheme(model, name, seed, batch=None):
    """TorchInit's ApplyInit(scheme, Seed = seed): a fresh generator, every layer in pre-order, weight then bias;
    "lsuv" is orthogonal weights and zero biases, then LSUV on `batch`."""
    torch.manual_seed(seed)
    for m in model.modules():  # pre-order
        if isinstance(m, LAYER_TYPES):
            SCHEMES[name](m)
    if name == "lsuv":
        lsuv(model, batch)


ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "selu": nn.SELU, "sigmoid": nn.Sigmoid, "softsign": nn.Softsign, "hardswish": nn.Hardswish}


def mlp(inputs, hidden, classes, activation, flatten=False):
    layers = collections.OrderedDict()
    if flatten:
        layers["flatten"] = nn.Flatten()
    n = inputs
    for i, h in enumerate(hidden):
        layers[f"fc{i}"] = nn.Linear(n, h)
        layers[f"act{i}"] = ACTIVATIONS[activation]()
        n = h
    layers["out"] = nn.Linear(n, classes)
    return nn.Sequential(layers)


def small_cnn(activation):
    a = ACTIVATIONS[activation]
    return nn.Sequential(collections.OrderedDict([
        ("conv0", nn.Conv2d(1, 8, 5)), ("act0", a()), ("pool0", nn.MaxPool2d(2)),
        ("conv1", nn.Conv2d(8, 16, 5)), ("act1", a()), ("pool1", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("out", nn.Linear(16 * 4 * 4, 10))]))


def deep_cnn(activation, channels):
    """Models.DeepCnn: conv0, conv1 (3x3, stride 2: 28 -> 14 -> 7), conv2... (3x3, same size), each then its activation, then
    out (1x1 conv to 10), pool (global average) and flatten: no normalization, no skips."""
    a = ACTIVATIONS[activation]
    layers = collections.OrderedDict()
    n = 1
    for i, c in enumerate(channels):
        layers[f"conv{i}"] = nn.Conv2d(n, c, 3, stride=2 if i < 2 else 1, padding=1)
        layers[f"act{i}"] = a()
        n = c
    layers["out"] = nn.Conv2d(n, 10, 1)
    layers["pool"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten()
    return nn.Sequential(layers)


class ClusterStream:
    """x = 0.5 * mu[y] + sqrt(0.75) * noise, mu ~ N(0, I) drawn once; labels cycle 0..classes-1 (ClusterStream.cs)."""

    def __init__(self, seed, features, classes, batch, dtype=torch.float32):
        self.g = torch.Generator().manual_seed(seed)
        self.means = torch.randn(classes, features, generator=self.g, dtype=dtype)
        self.batch, self.features, self.classes, self.dtype = batch, features, classes, dtype

    def next(self):
        noise = torch.randn(self.batch, self.features, generator=self.g, dtype=self.dtype)
        labels = torch.arange(self.batch, dtype=torch.int64) % self.classes
        x = self.means.index_select(0, labels) * 0.5 + noise * math.sqrt(0.75)
        return x, labels


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels)


def _moments(y64):
    n = y64.numel()
    if n == 0:
        return float("nan"), float("nan")
    return float(y64.mean()), float(y64.std()) if n > 1 else float("nan")


def _grad_std(t):
    if t is None or t.grad is None:
        return float("nan")
    return _moments(t.grad.detach().double())[1]


def probe(model, x, labels):
    """SignalProbe.Run: forward hooks on leaf modules, retain_grad on their outputs, one backward; float64 statistics."""
    calls, handles = [], []
    leaves = [(p, m) for p, m in model.named_modules() if len(list(m.children())) == 0]

    def hook_for(path, m):
        weight = m._parameters.get("weight")

        def hook(mod, inputs, output):
            with torch.no_grad():
                y = output.detach().double()
                mean, std = _moments(y)
                sat = dead = float("nan")
                kind = type(mod).__name__
                if kind == "Tanh":
                    sat = float((y.abs() > SATURATION).double().mean())
                elif kind == "Sigmoid":
                    sat = float(((y < 1 - SATURATION) | (y > SATURATION)).double().mean())
                elif kind == "ReLU":
                    dead = float((y == 0).double().mean())
            if output.requires_grad:
                output.retain_grad()
            calls.append(dict(index=len(calls), path=path, type=type(mod).__name__, mean=mean, std=std,
                              saturated=sat, dead=dead, _out=output if output.requires_grad else None, _w=weight))
        return hook

    saved = [(p, p.grad) for p in model.parameters()]
    for p, _ in saved:
        p.grad = None
    try:
        for path, m in leaves:
            handles.append(m.register_forward_hook(hook_for(path, m)))
        xi = x.detach()
        if xi.is_floating_point():
            xi.requires_grad_(True)
        loss = loss_fn(model(xi), labels)
        loss_value = float(loss.detach().double())
        loss.backward()
        rows = []
        for c in calls:
            row = {k: v for k, v in c.items() if not k.startswith("_")}
            row["grad_out_std"] = _grad_std(c["_out"])
            row["grad_weight_std"] = _grad_std(c["_w"])
            rows.append(row)
        return rows, loss_value
    finally:
        for h in handles:
            h.remove()
        for p, g in saved:
            p.grad = g


def sgd_step(model, opt, x, labels):
    loss = loss_fn(model(x), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach().double())


def units_identical(linear):
    with torch.no_grad():
        w = linear.weight
        same = float((w - w[0].unsqueeze(0)).abs().max()) == 0.0
        if linear.bias is not None:
            same = same and float((linear.bias - linear.bias[0]).abs().max()) == 0.0
        return same


def _finite(o):
    """NaN/inf as the strings System.Text.Json reads with AllowNamedFloatingPointLiterals."""
    if isinstance(o, float) and not math.isfinite(o):
        return "NaN" if math.isnan(o) else ("Infinity" if o > 0 else "-Infinity")
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_finite(v) for v in o]
    return o


def write(path, experiment, config, runs):
    doc = {"experiment": experiment, "producer": f"pytorch {torch.__version__}", "config": config, "runs": runs}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(_finite(doc), f, indent=2, allow_nan=False)
        f.write("\n")
    print(f"wrote {path}")


DTYPES = {"float32": torch.float32, "float64": torch.float64}


def synthetic_run(name, activation, scheme, depth, width, classes, batch, steps, lr, seed, dtype, count_identical):
    """SyntheticRun.cs."""
    dt = DTYPES[dtype]
    model = mlp(width, [width] * depth, classes, activation).to(dt)
    x, y = ClusterStream(seed + 1, width, classes, batch, dt).next()
    apply_scheme(model, scheme, seed, x)  # the data does not depend on the weights; LSUV rescales on this first batch
    layers, probe_loss = probe(model, x, y)
    stream = ClusterStream(seed + 1, width, classes, batch, dt)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        x, y = stream.next()
        losses.append(sgd_step(model, opt, x, y))
    run = {"name": name, "probe_loss": probe_loss, "layers": layers, "losses": losses}
    if count_identical:
        hidden = [m for n, m in model.named_children() if n != "out" and isinstance(m, nn.Linear)]
        run["identical_unit_layers"] = sum(units_identical(m) for m in hidden)
    return run
