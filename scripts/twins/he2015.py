#!/usr/bin/env python3
"""PyTorch twin of `TorchInit.Trainers he2015` (examples/TorchInit.Experiments/He2015.cs).

He et al. (2015), Fig. 3, at small scale: a plain ReLU MLP of --depth hidden layers trained with SGD from Xavier
(glorot-normal, std sqrt(1/n)) and from He (std sqrt(2/n)). Writes the twin JSON that `compare` checks.

Usage: /usr/bin/python3 scripts/twins/he2015.py --out out/twins/he2015.json [--depth 30 --width 256 ...]
"""
import argparse

import common


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=30)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--schemes", default="glorot-normal,he")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    schemes = a.schemes.split(",")
    config = dict(depth=a.depth, width=a.width, classes=a.classes, batch=a.batch, steps=a.steps, lr=a.lr, seed=a.seed, dtype=a.dtype,
                  schemes=schemes)
    runs = []
    for scheme in schemes:
        runs.append(common.synthetic_run(scheme, "relu", scheme, a.depth, a.width, a.classes, a.batch, a.steps, a.lr,
                                         a.seed, a.dtype, count_identical=False))
        print(f"{scheme}: loss {runs[-1]['losses'][0]:.4f} -> {runs[-1]['losses'][-1]:.4f}", flush=True)
    common.write(a.out, "he2015", config, runs)


if __name__ == "__main__":
    main()
