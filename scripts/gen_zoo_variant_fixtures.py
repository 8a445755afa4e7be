#!/usr/bin/env python3
"""Reference fixtures for tests/TorchInit.Tests/TorchVisionVariantTests.cs: torchvision variants the zoo presets claim by family beyond gen_zoo_fixtures.py's models.

Same hashing as gen_zoo_fixtures.py (tensors_of: SHA-256 per parameter / buffer, plus the first 64 float32 bit patterns of
each weight for models that draw truncated normals). Writes tests/TorchInit.Tests/Fixtures/zoo-variants/<name>.json; each
variant is keyed by seed. Usage: /usr/bin/python3 scripts/gen_zoo_variant_fixtures.py [names...]
"""
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch, torchvision
from torch import nn
from torchvision.models.vision_transformer import VisionTransformer, ConvStemConfig
from torchvision.models.convnext import ConvNeXt, CNBlockConfig
from gen_torchvision_fixtures import to_text
from gen_zoo_fixtures import tensors_of

M = torchvision.models

def tv(name, **kw):
    return lambda: getattr(M, name)(weights=None, **kw)

# name -> (builder, seeds, truncated normals drawn, call text)
MODELS = {
    # ResNet family (TorchVision.NET builds these)
    "resnet34": (tv("resnet34"), [0, 12345], False),
    "resnet34_zir": (tv("resnet34", zero_init_residual=True), [0], False),
    "resnet101": (tv("resnet101"), [0], False),
    "resnet101_zir": (tv("resnet101", zero_init_residual=True), [7], False),
    "resnet152": (tv("resnet152"), [0], False),
    "resnext50_32x4d": (tv("resnext50_32x4d"), [0], False),
    "resnext50_32x4d_zir": (tv("resnext50_32x4d", zero_init_residual=True), [12345], False),
    # TorchVision.NET 0.107's resnext101_64x4d() builds 320 tensors: the tree torchvision's ResNet class makes with [3, 4, 6, 3]
    "resnext_64x4d_3_4_6_3": (lambda: M.resnet.ResNet(M.resnet.Bottleneck, [3, 4, 6, 3], groups=64, width_per_group=4), [0], False),
    "wide_resnet101_2": (tv("wide_resnet101_2"), [0], False),
    "wide_resnet50_2_zir": (tv("wide_resnet50_2", zero_init_residual=True), [12345], False),
    "resnet18_seeds": (tv("resnet18"), [1, 42, 2**31 - 1, 2**32 + 5, 2**62 + 3, 2**63 - 1], False),
    "resnet18_c10": (tv("resnet18", num_classes=10), [3], False),
    "resnet50_g2w32": (tv("resnet50", groups=2, width_per_group=32), [0], False),
    "resnet18_groupnorm": (tv("resnet18", norm_layer=lambda c: nn.GroupNorm(32, c)), [0], False),
    "resnet18_groupnorm_zir": (tv("resnet18", norm_layer=lambda c: nn.GroupNorm(32, c), zero_init_residual=True), [0], False),
    # VGG
    "vgg11_seed": (tv("vgg11"), [12345], False),
    "vgg11_c10": (tv("vgg11", num_classes=10), [5], False),
    "vgg13": (tv("vgg13"), [0], False),
    "vgg13_bn": (tv("vgg13_bn"), [0], False),
    "vgg16_bn": (tv("vgg16_bn"), [12345], False),
    "vgg19": (tv("vgg19"), [0], False),
    "alexnet_seed": (tv("alexnet"), [12345], False),
    "alexnet_c10": (tv("alexnet", num_classes=10), [0], False),
    # MobileNet
    "mobilenet_v2_w05": (tv("mobilenet_v2", width_mult=0.5), [0], False),
    "mobilenet_v2_c10": (tv("mobilenet_v2", num_classes=10), [7], False),
    "mobilenet_v3_large_seed": (tv("mobilenet_v3_large"), [12345], False),
    # GoogLeNet / Inception
    "googlenet_c10": (tv("googlenet", aux_logits=False, init_weights=True, num_classes=10), [42], True),
    "inception_v3_seed": (tv("inception_v3", aux_logits=True, init_weights=True), [12345], True),
    "inception_v3_c10": (tv("inception_v3", aux_logits=True, init_weights=True, num_classes=10), [0], True),
    "inception_v3_default": (tv("inception_v3"), [0], True),
    # trees of your own (TorchVisionTrees in the tests)
    "vit_mid": (lambda: VisionTransformer(image_size=64, patch_size=16, num_layers=3, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=100), [42], True),
    "vit_stem_pre_logits": (lambda: VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=48, mlp_dim=96, num_classes=10,
                                                      representation_size=24, conv_stem_configs=[ConvStemConfig(8, 3, 2), ConvStemConfig(16, 3, 2), ConvStemConfig(16, 3, 2)]), [0], True),
    "vit_b_32": (tv("vit_b_32"), [0], True),
    "convnext_tiny": (tv("convnext_tiny"), [0], True),
    "convnext_ls": (lambda: ConvNeXt(block_setting=[CNBlockConfig(8, 16, 2), CNBlockConfig(16, 32, 1), CNBlockConfig(32, None, 1)], stochastic_depth_prob=0.0,
                                     layer_scale=0.1, num_classes=7), [3], True),
    "efficientnet_b0": (tv("efficientnet_b0"), [0, 12345], False),
    "efficientnet_b1": (tv("efficientnet_b1"), [0], False),
    "efficientnet_v2_s": (tv("efficientnet_v2_s"), [0], False),
}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests/TorchInit.Tests/Fixtures/zoo-variants")


def main(names):
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for name in names or MODELS:
        build, seeds, trunc = MODELS[name]
        t0 = time.time()
        variants = []
        for s in seeds:
            torch.manual_seed(s)
            variants.append({"seed": s, "tensors": tensors_of(build(), trunc)})
        doc = {"generator": "scripts/gen_zoo_variant_fixtures.py", "torch_version": torch.__version__.split("+")[0],
               "torchvision_version": torchvision.__version__.split("+")[0], "model": name, "variants": variants}
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            f.write(to_text(doc, variant_keys=("seed",)))
        print(f"{name}: {len(variants[0]['tensors'])} tensors, {time.time() - t0:.1f}s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
