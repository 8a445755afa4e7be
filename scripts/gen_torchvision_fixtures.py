#!/usr/bin/env python3
"""torchvision ResNet fixtures for TorchInit: hashes of real torchvision models' initial tensors.

For each model (resnet18: BasicBlock, resnet50: Bottleneck), seed (0, 12345) and zero_init_residual (False, True):
torch.manual_seed(seed); torchvision.models.<model>(weights=None, zero_init_residual=Z); then the SHA-256 of every
parameter's raw bytes in named_parameters() order, then every buffer's in named_buffers() order (contiguous, as
stored, little-endian), with name, shape and dtype. Hashes only: the fixtures stay small. One JSON file per model under
tests/TorchInit.Tests/Fixtures/torchvision/; tests/TorchInit.Tests/TorchVisionResNetTests.cs checks TorchVision.NET's
own models and a hand-built TorchSharp ResNet initialised by TorchInit against them bit for bit.

Needs Debian 13's python3-torch 2.6 and python3-torchvision 0.21 in /usr/bin/python3 (scripts/prereqs.sh
--with-pytorch installs both). scripts/test.sh runs --check when torchvision is importable.

Usage: /usr/bin/python3 scripts/gen_torchvision_fixtures.py [--out DIR] [--check]
  --check  regenerate into a temporary directory and exit 1 if any file differs from the one in --out
"""
import argparse, filecmp, hashlib, json, os, sys, tempfile

import torch

MODELS = ["resnet18", "resnet50"]
SEEDS = [0, 12345]
DEFAULT_OUT = "tests/TorchInit.Tests/Fixtures/torchvision"


def tensor_entry(kind, name, t):
    t = t.detach().cpu().contiguous()
    a = t.numpy()
    raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
    return {"kind": kind, "name": name, "dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
            "sha256": hashlib.sha256(raw).hexdigest()}


def model_variant(model_name, seed, zero_init_residual):
    import torchvision   # here, not at the top: tensor_entry and to_text need only torch (scripts/gen_hf_fixtures.py)
    torch.manual_seed(seed)
    model = getattr(torchvision.models, model_name)(weights=None, zero_init_residual=zero_init_residual)
    tensors = [tensor_entry("parameter", n, p) for n, p in model.named_parameters()]
    tensors += [tensor_entry("buffer", n, b) for n, b in model.named_buffers()]
    return {"seed": seed, "zero_init_residual": zero_init_residual, "tensors": tensors}


def model_doc(model_name):
    import torchvision
    variants = [model_variant(model_name, s, z) for s in SEEDS for z in (False, True)]
    return {"generator": "scripts/gen_torchvision_fixtures.py",
            "torch_version": torch.__version__.split("+")[0],
            "torchvision_version": torchvision.__version__.split("+")[0],
            "model": model_name,
            "call": f"torch.manual_seed(seed); torchvision.models.{model_name}(weights=None, zero_init_residual=zero_init_residual)",
            "hash": "sha256 of the contiguous tensor's raw little-endian bytes; parameters in named_parameters() order, then buffers in named_buffers() order",
            "variants": variants}


def to_text(doc, variant_keys=("seed", "zero_init_residual")):
    """JSON with one line per tensor (small, and diffs name the tensor); each variant opens with its variant_keys."""
    one = lambda o: json.dumps(o, separators=(", ", ": "))
    head = ",\n".join(f" {one(k)}: {one(v)}" for k, v in doc.items() if k != "variants")
    variants = []
    for v in doc["variants"]:
        tensors = ",\n".join(f"    {one(t)}" for t in v["tensors"])
        keys = "".join(f'"{k}": {one(v[k])}, ' for k in variant_keys)
        variants.append(f'  {{{keys}"tensors": [\n{tensors}\n  ]}}')
    text = "{\n" + head + ',\n "variants": [\n' + ",\n".join(variants) + "\n ]\n}\n"
    assert json.loads(text) == doc
    return text


def write_models(out_dir, names, model_doc, variant_keys):
    """One JSON file per model name into out_dir: model_doc(name), written by to_text with variant_keys(name); the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name in names:
        path = os.path.join(out_dir, f"{name}.json")
        with open(path, "w") as f:
            f.write(to_text(model_doc(name), variant_keys=variant_keys(name)))
        paths.append(path)
    return paths


def write_all(out_dir):
    return write_models(out_dir, MODELS, model_doc, lambda _: ("seed", "zero_init_residual"))


def fixture_main(description, default_out, names, model_doc, variant_keys, what, reference, script):
    """The command line of the model fixture generators (gen_zoo_fixtures.py, gen_torchvision_tree_fixtures.py, gen_hf_fixtures.py):
    one JSON file per model name into --out (model_doc(name), written by to_text with variant_keys(name)), or with --check the
    same into a temporary directory, exit 1 if any file differs from the committed one. `reference` names what the fixtures come
    from ("real torchvision 0.21.0 (torch 2.6.0)"), `script` how to regenerate them."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=default_out)
    ap.add_argument("--check", action="store_true", help="regenerate into a temporary directory; exit 1 if any file differs")
    args = ap.parse_args()
    torch.set_num_threads(1)

    if not args.check:
        for p in write_models(args.out, names, model_doc, variant_keys):
            print(f"wrote {p}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        committed = lambda p: os.path.join(args.out, os.path.basename(p))
        bad = [os.path.basename(p) for p in write_models(tmp, names, model_doc, variant_keys)
               if not os.path.exists(committed(p)) or not filecmp.cmp(p, committed(p), shallow=False)]
        if bad:
            print(f"{what} differ from {reference}: {', '.join(bad)}; regenerate with: /usr/bin/python3 {script}", file=sys.stderr)
            return 1
    print(f"{what} match {reference}: {', '.join(names)}")
    return 0


def differences(new_path, old_path):
    """Which (seed, Z, tensor) entries differ, for the message."""
    try:
        with open(old_path) as f:
            old = json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return ["(committed file missing or unreadable)"]
    with open(new_path) as f:
        new = json.load(f)
    out = [f"{k}: {old.get(k)} -> {new[k]}" for k in new if k != "variants" and old.get(k) != new[k]]
    old_v = {(v["seed"], v["zero_init_residual"]): {t["name"]: t for t in v["tensors"]} for v in old.get("variants", [])}
    for v in new["variants"]:
        key = (v["seed"], v["zero_init_residual"])
        ov = old_v.get(key, {})
        for t in v["tensors"]:
            if ov.get(t["name"]) != t:
                out.append(f"seed={key[0]} zero_init_residual={key[1]} {t['name']}")
        out += [f"seed={key[0]} zero_init_residual={key[1]} {n} (no longer produced)" for n in ov if n not in {t["name"] for t in v["tensors"]}]
    return out or ["(formatting or order only)"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="regenerate into a temporary directory; exit 1 if any file differs")
    args = ap.parse_args()
    import torchvision
    torch.set_num_threads(1)
    if not args.check:
        for p in write_all(args.out):
            print(f"wrote {p}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        bad = 0
        for p in write_all(tmp):
            committed = os.path.join(args.out, os.path.basename(p))
            if os.path.exists(committed) and filecmp.cmp(p, committed, shallow=False):
                continue
            d = differences(p, committed)
            bad += 1
            print(f"{committed} differs from real torchvision {torchvision.__version__} (torch {torch.__version__}): "
                  f"{len(d)} difference(s), e.g. {d[:5]}", file=sys.stderr)
        if bad:
            print(f"regenerate with: /usr/bin/python3 scripts/gen_torchvision_fixtures.py", file=sys.stderr)
            return 1
    print(f"torchvision fixtures match real torchvision {torchvision.__version__} (torch {torch.__version__}): "
          f"{', '.join(MODELS)} x seeds {SEEDS} x zero_init_residual {{False, True}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
