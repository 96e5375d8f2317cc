"""Export torchvision's ImageNet weights to safetensors plus a labels file and model cards.

Run once on a machine with internet access (heatmap-explorer itself never downloads anything):

    python models/export_torchvision.py OUT_DIR

Writes OUT_DIR/resnet34.safetensors, OUT_DIR/alexnet.safetensors, OUT_DIR/imagenet_labels.txt
and a model card OUT_DIR/<arch>.json for each, ready for `heatmap-explorer --model OUT_DIR/resnet34.json`.
"""
import json
import os
import sys

import torch
import torchvision
from safetensors.torch import save_file


def main(out):
    os.makedirs(out, exist_ok=True)
    weights = {
        "resnet34": torchvision.models.ResNet34_Weights.IMAGENET1K_V1,
        "alexnet": torchvision.models.AlexNet_Weights.IMAGENET1K_V1,
    }
    labels = weights["resnet34"].meta["categories"]
    with open(os.path.join(out, "imagenet_labels.txt"), "w") as f:
        f.write("\n".join(labels) + "\n")
    for arch, w in weights.items():
        net = getattr(torchvision.models, arch)(weights=w).eval()
        state = {k: v.contiguous() for k, v in net.state_dict().items()}
        save_file(state, os.path.join(out, f"{arch}.safetensors"))
        card = {
            "arch": arch,
            "classes": 1000,
            "labels": "imagenet_labels.txt",
            "normalize": "imagenet",
            "input_size": [256, 256],
            "weights": f"{arch}.safetensors",
            "source": f"torchvision {torchvision.__version__} {w}",
            "accuracy": w.meta.get("_metrics", {}),
        }
        with open(os.path.join(out, f"{arch}.json"), "w") as f:
            json.dump(card, f, indent=2)
        print(f"wrote {arch}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/imagenet")
