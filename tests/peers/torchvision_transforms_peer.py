"""torchvision 0.25's transforms.v2.functional ops (what LeRobot's image transforms call) as the
peer of robotrain's train/image_transforms.

Usage: torchvision_transforms_peer.py INPUT.safetensors CASES.json OUTPUT.safetensors
INPUT holds "image" (..., 3, H, W) float in [0, 1]; CASES is a list of {"name", "op", "args"}
with op one of adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue,
adjust_sharpness (args: [factor]) or affine (args: [angle, tx, ty]: rotation in degrees and
translation in pixels, scale 1, no shear, nearest, zero fill, as RandomAffine applies it).
OUTPUT gets one tensor per case name.
"""

import json
import sys

import torch
from safetensors.torch import load_file, save_file
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F


def run(op: str, image: torch.Tensor, args: list) -> torch.Tensor:
    if op == "affine":
        angle, tx, ty = args
        return F.affine(image, angle=angle, translate=[tx, ty], scale=1.0, shear=[0.0, 0.0],
                        interpolation=InterpolationMode.NEAREST, fill=0)
    return getattr(F, op)(image, *args)


def main() -> None:
    image = load_file(sys.argv[1])["image"]
    with open(sys.argv[2]) as f:
        cases = json.load(f)
    out = {case["name"]: run(case["op"], image, case["args"]).contiguous() for case in cases}
    save_file(out, sys.argv[3])
    print(json.dumps({"cases": len(out)}))


if __name__ == "__main__":
    main()
