"""How sharp a big canvas comes out: a 2400x1600 layer at the default settings, with and without the
content's fine detail carried into the upscaled result (the `detail` setting), side by side.

    .venv/bin/python benchmarks/sharpness.py [--crops docs/sharpness_crops.png]

The canvas is a collage of the sample photos at about their own resolution (so that it has real
fine detail, not an upscaled blur).  Sharpness is high-frequency energy: the mean squared
Laplacian of the luminance, as a share of the content's.  Prints each variant's time and share,
and saves full-resolution 384 px crops (content, detail 0, detail 1) for looking at.
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from backend import device, engine, images  # noqa: E402
from backend.model import load_vgg19  # noqa: E402
from helpers import sample  # noqa: E402

TILES = ("coffee.png", "rocket.jpg", "astronaut.png", "chelsea.png")
WIDTH, HEIGHT = 2400, 1600


def collage():
    """2400x1600 of 600x400 tiles, each sample cropped to 3:2 and scaled at most 1.35x."""
    rows = []
    for r in range(4):
        row = []
        for c in range(4):
            rgb = images.from_wire(images.load_file(sample(TILES[(r + c) % 4])))[0]
            h, w = rgb.shape[-2:]
            ch, cw = (h, round(h * 1.5)) if w >= h * 1.5 else (round(w / 1.5), w)
            top, left = (h - ch) // 2, (w - cw) // 2
            row.append(images.resize(rgb[..., top:top + ch, left:left + cw], 400, 600))
        rows.append(torch.cat(row, 3))
    return torch.cat(rows, 2)


def high_frequency(rgb):
    gray = (0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]).unsqueeze(1)
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
    return float(F.conv2d(gray, kernel).pow(2).mean())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--crops", default=None, help="save the crops side by side to this PNG")
    args = parser.parse_args()
    runtime = device.choose("auto", "auto")
    model = load_vgg19(None, engine.ALL_LAYERS).to(runtime.device)
    content = collage()
    style = images.from_wire(images.load_file(sample("starry_night_google.jpg")))[0]
    base = high_frequency(content)
    print("%dx%d collage, style Starry Night, defaults otherwise; %s" % (WIDTH, HEIGHT, runtime.description))
    print("| detail | seconds | high-frequency energy vs the content |")
    print("|---|---|---|")
    results = {}
    for detail in (0.0, 1.0):
        start = time.perf_counter()
        for progress in engine.stylize(model, runtime, content, [(style, 1.0)], {"detail": detail}):
            if progress.done:
                results[detail] = progress.image
        seconds = time.perf_counter() - start
        print("| %.0f | %.1f | %.0f %% |" % (detail, seconds, 100 * high_frequency(results[detail]) / base))
    if args.crops:
        from PIL import Image
        y, x, side = 420, 630, 384   # across a tile border: fur, metal and sky
        crops = [t[..., y:y + side, x:x + side] for t in (content, results[0.0], results[1.0])]
        strip = torch.cat(crops, 3)[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
        Image.fromarray(strip).save(args.crops)
        print("crops (content | detail 0 | detail 1, 1:1 pixels) saved to", args.crops)


if __name__ == "__main__":
    main()
