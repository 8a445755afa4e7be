#!/usr/bin/env python3
"""PyTorch twin of `TorchInit.Trainers lsuv` (examples/TorchInit.Experiments/LsuvExperiment.cs).

LSUV (Mishkin & Matas 2016) against Glorot and He on deep plain nets (activation:depth, e.g. relu:30, tanh:10, hardswish:10),
trained with SGD on the synthetic cluster stream; LSUV starts from orthogonal weights and rescales each layer on the first
batch (common.lsuv, the algorithm of src/TorchInit/Apply/Lsuv.cs). Writes the twin JSON that `compare` checks.

Usage: /usr/bin/python3 scripts/twins/lsuv.py --out out/twins/lsuv.json [--nets relu:30,tanh:10 --width 128 ...]
"""
import argparse

import common


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nets", default="relu:30,tanh:10,hardswish:10")
    ap.add_argument("--schemes", default="glorot,he,lsuv")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    nets, schemes = a.nets.split(","), a.schemes.split(",")
    config = dict(width=a.width, classes=a.classes, batch=a.batch, steps=a.steps, lr=a.lr, seed=a.seed, nets=nets, schemes=schemes,
                  dtype=a.dtype)
    runs = []
    for net in nets:
        activation, depth = net.split(":")
        for scheme in schemes:
            name = f"{activation}{depth}/{scheme}"
            runs.append(common.synthetic_run(name, activation, scheme, int(depth), a.width, a.classes, a.batch, a.steps, a.lr,
                                             a.seed, a.dtype, count_identical=False))
            print(f"{name}: loss {runs[-1]['losses'][0]:.4f} -> {runs[-1]['losses'][-1]:.4f}", flush=True)
    common.write(a.out, "lsuv", config, runs)


if __name__ == "__main__":
    main()
