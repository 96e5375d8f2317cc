"""Export torchxrayvision's chest X-ray classifiers to safetensors plus a model card each.

Run once on a machine with internet access and torchxrayvision installed (heatmap-explorer itself
never downloads anything; `pip install torchxrayvision`):

    python models/export_xrv.py OUT_DIR [WEIGHTS...]

WEIGHTS are torchxrayvision weight names; the default is its two "all" models,
`densenet121-res224-all` (DenseNet121, 224×224) and `resnet50-res512-all` (ResNet50, 512×512).
Any other DenseNet121 weights (`densenet121-res224-nih`, `-pc`, `-chex`, `-rsna`, `-mimic_nb`,
`-mimic_ch`) export the same way. Writes OUT_DIR/<name>.safetensors and OUT_DIR/<name>.json:

  - arch `xrv-densenet121` or `xrv-resnet50`, 1 input channel, 18 outputs, multi-label;
  - normalize `xrv`: heatmap-explorer maps a [0, 1] pixel p to (2p − 1)·1024 inside the model,
    which is torchxrayvision's `xrv.datasets.normalize(img, 255)` for an 8-bit image;
  - the 18 pathology labels in output order (torchxrayvision leaves an output a model was not
    trained for unnamed; the card names it "(untrained N)" so every label is unique);
  - the logits are the classifier's output before torchxrayvision's sigmoid and `op_threshs`
    calibration; the thresholds go into the card as provenance (`op_threshs`), not into the model.

Then: `heatmap-explorer gui --model OUT_DIR/densenet121-res224-all.json --image cxr.dcm`.
"""
import json
import math
import os
import sys

import torch
import torchxrayvision as xrv
from safetensors.torch import save_file

DEFAULT = ["densenet121-res224-all", "resnet50-res512-all"]


def export(name, out):
    if name.startswith("densenet"):
        model, arch = xrv.models.DenseNet(weights=name), "xrv-densenet121"
        state = model.state_dict()
    elif name.startswith("resnet50"):
        model, arch = xrv.models.ResNet(weights=name), "xrv-resnet50"
        # Its torchvision ResNet50 sits under `model.`; heatmap-explorer accepts both.
        state = model.model.state_dict()
    else:
        raise SystemExit(f"{name}: only DenseNet121 and ResNet50 weights are supported")
    model.eval()
    state = {k: v.contiguous() for k, v in state.items() if k != "op_threshs"}
    save_file(state, os.path.join(out, f"{name}.safetensors"))
    labels = [t if t else f"(untrained {i})" for i, t in enumerate(model.targets)]
    size = int(getattr(model, "input_resolution", 512 if arch == "xrv-resnet50" else 224))
    thresholds = xrv.models.model_urls[name].get("op_threshs")
    card = {
        "arch": arch,
        "classes": len(labels),
        "labels": labels,
        "normalize": "xrv",
        "input_size": [size, size],
        "channels": 1,
        "multilabel": True,
        "weights": f"{name}.safetensors",
        "source": f"torchxrayvision {xrv.__version__} weights '{name}'",
        "description": xrv.models.model_urls[name].get("description", ""),
        "op_threshs": [None if (t is None or math.isnan(t)) else float(t) for t in thresholds or []],
    }
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(card, f, indent=2)
    print(f"wrote {name} ({arch}, {size}x{size})", flush=True)


def main(out, names):
    os.makedirs(out, exist_ok=True)
    torch.set_grad_enabled(False)
    for name in names or DEFAULT:
        export(name, out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/xrv", sys.argv[2:])
