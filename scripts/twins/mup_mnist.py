#!/usr/bin/env python3
"""PyTorch twin of `TorchInit.Trainers mup` (examples/TorchInit.Experiments/MupMnist.cs): learning-rate transfer across width.

An MLP 784 -> w -> w -> 10 with ReLU (flatten, fc0, act0, fc1, act1, out) at several widths w, trained with Adam over a
log2 grid of learning rates, under
  sp:  the standard parametrization: PyTorch's default init (nn.Linear's reset_parameters) and torch.optim.Adam(lr);
  mup: the maximal update parametrization (Yang et al. 2022, Tensor Programs V, arXiv 2203.03466, Tables 3 and 8), written
       here from the paper and docs/mup.md (not from Microsoft's mup package): base shapes from the model at --base-width
       and --delta-width, PyTorch's default init made muP, and Adam with per-parameter learning rates. The head is a
       MuReadout (Table 8: y = linear(x * alpha / m_in, W, b), W at the base model's std, Adam lr eta) or, with
       --readout plain, an nn.Linear (Table 3: std sigma0 / m_in, Adam lr eta / m_in).

MNIST is read as scripts/twins/mnist.py reads it: torchvision's datasets.MNIST (pixels k/256, Normalize(0.1307, 0.3081))
through a DataLoader; the training split is the first --train of randperm(60000, seed + 1), read once, and each epoch's
order is randperm(train, seed + 2) (the same batches for every run); the test split the first --test test digits. Per run:
the probe at initialization on the first batch, the loss of every step (before its update) and the test accuracy after
each epoch. Writes the twin JSON that `TorchInit.Trainers compare` checks.

Usage: /usr/bin/python3 scripts/twins/mup_mnist.py --out out/twins/mup-mnist.json \
         --widths 64,128,256 --log2-lrs=-12,-9,-6 --base-width 64 --delta-width 128 --train 2000 --test 500 --batch 64 --max-steps 30
"""
import argparse
import collections
import math
import os

import torch
import torch.nn as nn

import common
import mnist
from mup import MuReadout   # Table 8's readout, one definition for both μP twins


def build(width, mup, readout):
    """MupMnist.Build: flatten, fc0 (784 -> w), act0, fc1 (w -> w), act1, out (w -> 10: a MuReadout under muP unless plain)."""
    head = MuReadout(width, 10) if mup and readout == "mu-readout" else nn.Linear(width, 10)
    return nn.Sequential(collections.OrderedDict([
        ("flatten", nn.Flatten()), ("fc0", nn.Linear(784, width)), ("act0", nn.ReLU()),
        ("fc1", nn.Linear(width, width)), ("act1", nn.ReLU()), ("out", head)]))


# ---- muP from docs/mup.md ---------------------------------------------------------------------------------------------

def base_shapes(factory, base_width, delta_width):
    """Per parameter name: (base shape, which dimensions are infinite), from two models built on the meta device."""
    with torch.device("meta"):
        b, d = factory(base_width), factory(delta_width)
    shapes = {}
    for (name, p), (name2, q) in zip(b.named_parameters(), d.named_parameters()):
        assert name == name2 and p.dim() == q.dim()
        shapes[name] = (tuple(p.shape), tuple(x != y for x, y in zip(p.shape, q.shape)))
    return shapes


def layout(p):
    """(fan-in dims, fan-out dims) of a Linear's weight [out, in] and of a vector (fan-out only)."""
    return ([], [0]) if p.dim() == 1 else ([1], [0])


def classify(p, base, infinite):
    """The parameter's class and its multipliers m_in, m_out (products of n / n0 over the fan-in / fan-out dims)."""
    fan_in, fan_out = layout(p)
    m_in = math.prod(p.shape[i] / base[i] for i in fan_in)
    m_out = math.prod(p.shape[i] / base[i] for i in fan_out)
    inf_in = any(infinite[i] for i in fan_in)
    inf_out = any(infinite[i] for i in fan_out)
    if inf_in and inf_out:
        return "hidden", m_in, m_out
    if inf_in:
        return "output", m_in, m_out
    if inf_out:
        return "vector-like" if not fan_in else "input", m_in, m_out
    return "finite", m_in, m_out


def mu_parameters(model, shapes):
    """Per parameter (named_parameters order): (name, module, class, m_in, m_out, is_readout)."""
    modules = dict(model.named_modules())
    out = []
    for name, p in model.named_parameters():
        base, infinite = shapes[name]
        owner = modules[name.rpartition(".")[0]]
        cls, m_in, m_out = classify(p, base, infinite)
        out.append((name, owner, p, cls, m_in, m_out, isinstance(owner, MuReadout)))
    return out


def torch_default_std(fan_in):
    """PyTorch's nn.Linear init as a std: weight kaiming_uniform_(a=sqrt 5) = U(+-1/sqrt fan_in), bias U(+-1/sqrt fan_in)."""
    return 1 / math.sqrt(3 * fan_in)


def mup_init(model, shapes, seed):
    """PyTorch's default init made muP (docs/mup.md, Initialization): from torch.manual_seed(seed), every Linear in pre-order,
    weight then bias, U(+-bound * s) with bound the default's at the parameter's own shape and s = (muP std) / sigma."""
    params = {name: (cls, m_in, readout) for name, _, _, cls, m_in, _, readout in mu_parameters(model, shapes)}
    torch.manual_seed(seed)
    for mname, m in model.named_modules():  # pre-order
        if not isinstance(m, nn.Linear):
            continue
        wname = f"{mname}.weight"
        cls, m_in, readout = params[wname]
        fan_in = m.weight.shape[1]
        fan_in0 = shapes[wname][0][1]
        sigma, sigma0 = torch_default_std(fan_in), torch_default_std(fan_in0)
        mu_std = {"input": sigma0, "vector-like": sigma0, "finite": sigma0, "hidden": sigma0 / math.sqrt(m_in),
                  "output": sigma0 if readout else sigma0 / m_in}[cls]
        s = mu_std / sigma
        gain = math.sqrt(2.0 / (1 + 5))           # torch.nn.init.calculate_gain("leaky_relu", sqrt(5))
        bound = math.sqrt(3.0) * (gain / math.sqrt(fan_in))
        with torch.no_grad():
            m.weight.uniform_(-bound * s, bound * s)
        if readout:
            m.width_mult = m_in
        if m.bias is not None:
            bcls = params[f"{mname}.bias"][0]
            # A vector (vector-like or finite): the base model's std sigma0, its fan the weight's fan-in at the base shape.
            assert bcls in ("vector-like", "finite")
            sb = torch_default_std(fan_in0) / torch_default_std(fan_in)
            bbound = 1 / math.sqrt(fan_in)
            with torch.no_grad():
                m.bias.uniform_(-bbound * sb, bbound * sb)


def adam_multiplier(cls, m_in, readout):
    """docs/mup.md, Learning rates: Adam's multiplier of the base learning rate."""
    if cls == "hidden":
        return 1 / m_in
    if cls == "output":
        return 1.0 if readout else 1 / m_in
    return 1.0


def mup_adam(model, shapes, lr):
    groups = collections.OrderedDict()
    for _, _, p, cls, m_in, _, readout in mu_parameters(model, shapes):
        groups.setdefault(adam_multiplier(cls, m_in, readout), []).append(p)
    return torch.optim.Adam([{"params": ps, "lr": lr * mult} for mult, ps in groups.items()], lr=lr)


# ---- the experiment ---------------------------------------------------------------------------------------------------

def run_name(param, width, e):
    return f"{param}/w{width}/lr2^{e:g}"


def final_loss(losses, last):
    tail = losses[-min(last, len(losses)):]
    return sum(tail) / len(tail) if tail else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", default="128,256,512,1024,2048")
    ap.add_argument("--log2-lrs", default="-16,-15,-14,-13,-12,-11,-10,-9,-8,-7,-6,-5")
    ap.add_argument("--parametrizations", default="sp,mup")
    ap.add_argument("--readout", default="mu-readout", choices=["mu-readout", "plain"])
    ap.add_argument("--base-width", type=int, default=128)
    ap.add_argument("--delta-width", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--last", type=int, default=50, help="final training loss: the mean over the last LAST steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--data", default=os.path.join("data", "mnist"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    dt = common.DTYPES[a.dtype]
    widths = [int(w) for w in a.widths.split(",")]
    lrs = [float(e) for e in a.log2_lrs.split(",")]
    params = a.parametrizations.split(",")
    config = dict(widths=widths, log2_lrs=lrs, parametrizations=params, readout=a.readout, base_width=a.base_width,
                  delta_width=a.delta_width, epochs=a.epochs, batch=a.batch, train=a.train, test=a.test, max_steps=a.max_steps,
                  last=a.last, seed=a.seed, dtype=a.dtype)

    train_set, test_set = mnist.dataset(a.data, True), mnist.dataset(a.data, False)
    split = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(a.seed + 1))
    train_x, train_y = mnist.read(train_set, split[:a.train].tolist())
    test_x, test_y = mnist.read(test_set, list(range(a.test)))
    train_x, test_x = train_x.to(dt), test_x.to(dt)
    total = (a.train + a.batch - 1) // a.batch * a.epochs
    if a.max_steps is not None:
        total = min(total, a.max_steps)
    shapes = base_shapes(lambda w: build(w, True, a.readout), a.base_width, a.delta_width)

    runs = []
    for param in params:
        for width in widths:
            for e in lrs:
                mup = param == "mup"
                model = build(width, mup, a.readout).to(dt)
                if mup:
                    mup_init(model, shapes, a.seed)
                    opt = mup_adam(model, shapes, 2.0 ** e)
                else:
                    common.apply_scheme(model, "torch-default", a.seed)
                    opt = torch.optim.Adam(model.parameters(), lr=2.0 ** e)
                order_g = torch.Generator().manual_seed(a.seed + 2)
                losses, acc, probe, step = [], [], None, 0
                for _ in range(a.epochs):
                    if step >= total:
                        break
                    order = torch.randperm(a.train, generator=order_g)
                    for i in range(0, a.train, a.batch):
                        if step >= total:
                            break
                        rows = order[i:i + a.batch]
                        x, y = train_x.index_select(0, rows), train_y.index_select(0, rows)
                        if probe is None:
                            probe = common.probe(model, x, y)
                        losses.append(common.sgd_step(model, opt, x, y))
                        step += 1
                    acc.append(mnist.accuracy(model, test_x, test_y))
                runs.append({"name": run_name(param, width, e), "probe_loss": probe[1], "layers": probe[0], "losses": losses, "accuracy": acc})
                print(f"{runs[-1]['name']}: loss {losses[0]:.4f} -> final {final_loss(losses, a.last):.4f}, test accuracy {acc[-1]:.4f}", flush=True)
    for param in params:
        best = []
        for width in widths:
            finals = [(final_loss(r["losses"], a.last), e) for e in lrs for r in runs if r["name"] == run_name(param, width, e)]
            finite = [f for f in finals if math.isfinite(f[0])]
            best.append(f"w{width}: 2^{min(finite)[1]:g}" if finite else f"w{width}: none")
        print(f"{param} optimum: {', '.join(best)}")
    common.write(a.out, "mup-mnist", config, runs)


if __name__ == "__main__":
    main()
