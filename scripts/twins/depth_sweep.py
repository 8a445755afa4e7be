#!/usr/bin/env python3
"""PyTorch twin of `TorchInit.Trainers depth-sweep` (examples/TorchInit.Experiments/DepthSweep.cs).

For each activation x scheme: an MLP of --depth hidden layers of --width units on standardized inputs, initialized
with torch.manual_seed(seed) and torch.nn.init in pre-order, probed on the first batch (per-layer activation and
gradient statistics), then --steps plain SGD steps. Writes the twin JSON that `TorchInit.Trainers compare` checks.

Usage: /usr/bin/python3 scripts/twins/depth_sweep.py --out out/twins/depth-sweep.json [--depth 10 --width 256 ...]
"""
import argparse

import torch

import common


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--activations", default="tanh,relu,selu")
    ap.add_argument("--schemes", default="normal-0.01,normal-1,zeros,inv-sqrt-n,glorot,he,lecun")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    activations, schemes = a.activations.split(","), a.schemes.split(",")
    config = dict(depth=a.depth, width=a.width, classes=a.classes, batch=a.batch, steps=a.steps, lr=a.lr, seed=a.seed, dtype=a.dtype,
                  activations=activations, schemes=schemes)
    runs = []
    for act in activations:
        for scheme in schemes:
            runs.append(common.synthetic_run(f"{act}/{scheme}", act, scheme, a.depth, a.width, a.classes, a.batch,
                                             a.steps, a.lr, a.seed, a.dtype, count_identical=True))
            print(f"{act}/{scheme}: loss {runs[-1]['losses'][0]:.4f} -> {runs[-1]['losses'][-1]:.4f}", flush=True)
    common.write(a.out, "depth-sweep", config, runs)


if __name__ == "__main__":
    main()
