"""Captum side of the attribution benchmark: per-method time for one image and for a batch,
on torchvision models with random weights (every ReLU call its own non-inplace module, as the
reference generator builds them, since Captum's DeepLift raises on stock ResNets).

Usage: python bench/captum_methods.py ARCHS BATCHES REPS   e.g. resnet34,alexnet 1,32 3
"""
import os
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
from make_reference import adjust  # noqa: E402

import captum.attr as ca  # noqa: E402

dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


def main(archs, batches, reps):
    torch.manual_seed(0)
    for arch in archs:
        net = adjust(getattr(torchvision.models, arch)(weights=None)).to(dev).eval()
        layer = net.conv1 if arch.startswith("resnet") else net.features[0]
        methods = {
            "Saliency": lambda x, t: ca.Saliency(net).attribute(x, target=t, abs=False),
            "InputXGradient": lambda x, t: ca.InputXGradient(net).attribute(x, target=t),
            "LayerGradCam": lambda x, t: ca.LayerAttribution.interpolate(
                ca.LayerGradCam(net, layer).attribute(x, target=t), x.shape[2:], interpolate_mode="bilinear"),
            "Deconvolution": lambda x, t: ca.Deconvolution(net).attribute(x, target=t),
            "GuidedBackprop": lambda x, t: ca.GuidedBackprop(net).attribute(x, target=t),
            "DeepLift": lambda x, t: ca.DeepLift(net).attribute(x, target=t),
        }
        for b in batches:
            x = torch.rand(b, 3, 256, 256, device=dev)
            with torch.no_grad():
                t = net(x).argmax(1)
            for name, f in methods.items():
                f(x, t)
                sync()
                start = time.perf_counter()
                for _ in range(reps):
                    f(x, t)
                sync()
                ms = 1000 * (time.perf_counter() - start) / reps
                print(f"captum attribute {arch} {name} batch={b}: {ms:.2f} ms/call, {ms / b:.2f} ms/image", flush=True)


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    main(sys.argv[1].split(","), [int(b) for b in sys.argv[2].split(",")], int(sys.argv[3]))
