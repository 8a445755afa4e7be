#!/usr/bin/env python3
"""torchvision model-zoo fixtures for TorchInit's zoo presets: hashes of real torchvision models' initial tensors.

For each model TorchVision.NET 0.107 also has (beside the ResNets of gen_torchvision_fixtures.py) and each seed:
torch.manual_seed(seed); torchvision.models.<model>(weights=None, **kwargs); then, per parameter (named_parameters() order)
and buffer (named_buffers() order), name, dtype, shape and the SHA-256 of its raw little-endian bytes. For the models
whose init loop draws truncated normals (googlenet, inception_v3), also the float32 bit patterns of each weight's first
HEAD elements ("head", hex): libtorch 2.10's erfinv (TorchSharp) and PyTorch 2.6's differ in the last bits for some
elements, so tests/TorchInit.Tests/TorchVisionZooTests.cs counts how many of those differ and by how many ulp.

Needs Debian 13's python3-torch 2.6 and python3-torchvision 0.21 in /usr/bin/python3 (scripts/prereqs.sh
--with-pytorch installs both). scripts/test.sh runs --check when torchvision is importable.

Usage: /usr/bin/python3 scripts/gen_zoo_fixtures.py [--out DIR] [--check]
"""
import sys

import torch
import torchvision

from gen_torchvision_fixtures import fixture_main, tensor_entry, to_text

HEAD = 64
# model -> (kwargs, seeds, truncated normals drawn); the big ones with one seed, to keep CI short.
MODELS = {
    "wide_resnet50_2": ({}, [0], False),
    # TorchVision.NET 0.107's resnext101_32x8d() builds [3, 4, 6, 3] Bottlenecks (161 parameters; torchvision's has
    # [3, 4, 23, 3], 314): the reference is torchvision's ResNet class with the tree TorchVision.NET builds.
    "resnext_32x8d_3_4_6_3": ({"block": "Bottleneck", "layers": [3, 4, 6, 3], "groups": 32, "width_per_group": 8}, [0], False),
    "vgg11": ({}, [0], False),
    "vgg11_bn": ({}, [0], False),
    "alexnet": ({}, [0], False),
    "mobilenet_v2": ({}, [0, 12345], False),
    "mobilenet_v3_small": ({}, [0, 12345], False),
    "mobilenet_v3_large": ({}, [0], False),
    "googlenet": ({"aux_logits": False, "init_weights": True}, [0, 12345], True),
    "inception_v3": ({"aux_logits": True, "init_weights": True}, [0], True),
}
DEFAULT_OUT = "tests/TorchInit.Tests/Fixtures/zoo"


def head(t):
    a = t.detach().cpu().contiguous().flatten()[:HEAD]
    if a.dtype != torch.float32:
        return None
    return a.view(torch.int32).numpy().astype("<u4").tobytes().hex()


def tensors_of(model, trunc):
    """Every parameter (named_parameters() order), then every buffer, as tensor_entry writes it; with `trunc`, each weight's head too."""
    tensors = []
    for kind, items in (("parameter", model.named_parameters()), ("buffer", model.named_buffers())):
        for n, t in items:
            e = tensor_entry(kind, n, t)
            if trunc and kind == "parameter" and t.dim() >= 2 and (h := head(t)) is not None:
                e["head"] = h
            tensors.append(e)
    return tensors


def variant(name, seed):
    kwargs, _, trunc = MODELS[name]
    torch.manual_seed(seed)
    if "block" in kwargs:   # torchvision's ResNet class itself, for a tree no torchvision builder makes
        k = dict(kwargs, block=getattr(torchvision.models.resnet, kwargs["block"]))
        model = torchvision.models.resnet.ResNet(**k)
    else:
        model = getattr(torchvision.models, name)(weights=None, **kwargs)
    return {"seed": seed, "tensors": tensors_of(model, trunc)}


def model_doc(name):
    kwargs, seeds, _ = MODELS[name]
    args = ", ".join(["weights=None"] + [f"{k}={v!r}" for k, v in kwargs.items()])
    call = (f"torch.manual_seed(seed); torchvision.models.resnet.ResNet({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
            if "block" in kwargs else f"torch.manual_seed(seed); torchvision.models.{name}({args})")
    return {"generator": "scripts/gen_zoo_fixtures.py",
            "torch_version": torch.__version__.split("+")[0],
            "torchvision_version": torchvision.__version__.split("+")[0],
            "model": name,
            "call": call,
            "hash": "sha256 of the contiguous tensor's raw little-endian bytes; parameters in named_parameters() order, then buffers",
            "head": f"float32 bit patterns (little-endian hex) of the first {HEAD} elements, for models that draw truncated normals",
            "variants": [variant(name, s) for s in seeds]}


def main():
    return fixture_main(__doc__, DEFAULT_OUT, list(MODELS), model_doc, lambda _: ("seed",), "zoo fixtures",
                        f"real torchvision {torchvision.__version__} (torch {torch.__version__})", "scripts/gen_zoo_fixtures.py")


if __name__ == "__main__":
    sys.exit(main())
