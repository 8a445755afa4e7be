#!/usr/bin/env python3
"""torchvision fixtures for the zoo presets of families TorchVision.NET 0.107 lacks (ViT, ConvNeXt, EfficientNet).

For each small model below and each seed: torch.manual_seed(seed); <the model's torchvision constructor call>; then, per
parameter (named_parameters() order) and buffer (named_buffers() order), name, dtype, shape and the SHA-256 of its raw
little-endian bytes (gen_torchvision_fixtures.tensor_entry). For the models whose init loop draws truncated normals (ViT,
ConvNeXt), also the float32 bit patterns of each weight's first 64 elements ("head", gen_zoo_fixtures.head): libtorch 2.10's
erfinv (TorchSharp) and PyTorch 2.6's differ in the last bits for some elements, so tests/TorchInit.Tests/TorchVisionTreeTests.cs
counts those. The models are small (CI stays fast) and built by torchvision's own classes, so every rule of the init loops
runs: ViT with and without representation_size and with a conv stem, ConvNeXt with a downsampling stage, EfficientNet with
MBConv (v1) and FusedMBConv (v2) blocks, and once in float64 (the Linear bound's last bit shows there).
The C# trees with torchvision's names and construction order are in TorchVisionTreeTests.cs.

Needs Debian 13's python3-torch 2.6 and python3-torchvision 0.21 in /usr/bin/python3 (scripts/prereqs.sh
--with-pytorch installs both). scripts/test.sh runs --check when torchvision is importable.

Usage: /usr/bin/python3 scripts/gen_torchvision_tree_fixtures.py [--out DIR] [--check]
"""
import sys

import torch
import torchvision
from torchvision.models.vision_transformer import VisionTransformer, ConvStemConfig
from torchvision.models.convnext import ConvNeXt, CNBlockConfig
from torchvision.models.efficientnet import EfficientNet, MBConvConfig, FusedMBConvConfig

from gen_torchvision_fixtures import fixture_main, to_text
from gen_zoo_fixtures import tensors_of

VIT = "VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=48, mlp_dim=96, num_classes=10"
EFFICIENTNET_V1 = "EfficientNet(inverted_residual_setting=[MBConvConfig(1, 3, 1, 8, 8, 1), MBConvConfig(6, 5, 2, 8, 16, 2)], dropout=0.2, num_classes=10)"
# name -> (the constructor call, evaluated with torchvision's classes; seeds; truncated normals drawn; default dtype)
MODELS = {
    "vit_tiny": (VIT + ")", [0, 12345], True, "float32"),
    "vit_tiny_pre_logits": (VIT + ", representation_size=32)", [0], True, "float32"),
    "vit_tiny_conv_stem": (VIT + ", conv_stem_configs=[ConvStemConfig(8, 3, 2), ConvStemConfig(16, 3, 2), ConvStemConfig(16, 3, 2)])", [0], True, "float32"),
    "convnext_tiny_tree": ("ConvNeXt(block_setting=[CNBlockConfig(8, 16, 2), CNBlockConfig(16, None, 1)], stochastic_depth_prob=0.1, num_classes=10)",
                           [0, 12345], True, "float32"),
    "efficientnet_v1_tree": (EFFICIENTNET_V1, [0, 12345], False, "float32"),
    "efficientnet_v1_tree_float64": (EFFICIENTNET_V1, [0], False, "float64"),
    "efficientnet_v2_tree": ("EfficientNet(inverted_residual_setting=[FusedMBConvConfig(1, 3, 1, 8, 8, 1), FusedMBConvConfig(4, 3, 2, 8, 16, 1), "
                             "MBConvConfig(4, 3, 2, 16, 24, 1)], dropout=0.2, num_classes=10, last_channel=64)", [0], False, "float32"),
}
CLASSES = {c.__name__: c for c in (VisionTransformer, ConvStemConfig, ConvNeXt, CNBlockConfig, EfficientNet, MBConvConfig, FusedMBConvConfig)}
DEFAULT_OUT = "tests/TorchInit.Tests/Fixtures/torchvision-trees"


def build(call, dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype))
    try:
        return eval(call, {"__builtins__": {}}, CLASSES)
    finally:
        torch.set_default_dtype(previous)


def variant(name, seed):
    call, _, trunc, dtype = MODELS[name]
    torch.manual_seed(seed)
    model = build(call, dtype)
    return {"seed": seed, "tensors": tensors_of(model, trunc)}


def model_doc(name):
    call, seeds, _, dtype = MODELS[name]
    default = "" if dtype == "float32" else f"torch.set_default_dtype(torch.{dtype}); "
    return {"generator": "scripts/gen_torchvision_tree_fixtures.py",
            "torch_version": torch.__version__.split("+")[0],
            "torchvision_version": torchvision.__version__.split("+")[0],
            "model": name,
            "call": f"{default}torch.manual_seed(seed); torchvision.models.{call}",
            "hash": "sha256 of the contiguous tensor's raw little-endian bytes; parameters in named_parameters() order, then buffers",
            "head": "float32 bit patterns (little-endian hex) of the first 64 elements of each weight, for models that draw truncated normals",
            "variants": [variant(name, s) for s in seeds]}


def main():
    return fixture_main(__doc__, DEFAULT_OUT, list(MODELS), model_doc, lambda _: ("seed",), "torchvision tree fixtures",
                        f"real torchvision {torchvision.__version__} (torch {torch.__version__})", "scripts/gen_torchvision_tree_fixtures.py")


if __name__ == "__main__":
    sys.exit(main())
