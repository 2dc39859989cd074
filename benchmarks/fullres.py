"""Full resolution on a big canvas: a layer stylised at its own size against today's working-size run scaled up.

    .venv/bin/python benchmarks/fullres.py [--canvas 2048x1536] [--crops docs/fullres_crops.jpg] [--cancel]

The canvas is a collage of the sample photos at about their own resolution (512x384 tiles: real fine
detail, not an upscaled blur).  Each variant runs in its own process, so that its peak resident
memory (VmHWM) is its own:
- working: resolution=working, detail=1 (the working size scaled up with the layer's detail added back);
- full: resolution=full (passes up to the layer's size, in tiles).
Printed per variant: seconds, seconds to the first result (the working size's), peak memory, the
distances at the standard size (backend/quality.py: the global look), and two 1:1 statistics:
- crop style distance: the mean Gram distance (relu1_1-relu3_1) of 256 px crops of the result
  against the style at the size the engine sees it beside this canvas (lower: more the style's texture);
- content detail: the correlation of the result's fine detail (Laplacian of the luminance) with the
  content's (1: the photo's own detail, pasted; 0: none of it).
--cancel also times a cancel asked in the middle of the last pass (seconds until the run returns).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from backend import device, engine, images, quality, tiles  # noqa: E402
from backend.model import load_vgg19  # noqa: E402
from helpers import sample  # noqa: E402
from krita_nst.core.sizes import style_seen  # noqa: E402

PHOTOS = ("coffee.png", "rocket.jpg", "astronaut.png", "chelsea.png")
TILE_W, TILE_H = 512, 384
STYLE = "starry_night_google.jpg"
VARIANTS = {"working": {"resolution": "working", "detail": 1.0}, "full": {"resolution": "full"}}


def collage(width, height):
    """width x height of 512x384 photo tiles, each sample cropped to 4:3 and scaled at most 1.3x."""
    rows = []
    for r in range(height // TILE_H):
        row = []
        for c in range(width // TILE_W):
            rgb = images.from_wire(images.load_file(sample(PHOTOS[(r + c) % 4])))[0]
            h, w = rgb.shape[-2:]
            ch, cw = (h, round(h * 4 / 3)) if w >= h * 4 / 3 else (round(w * 3 / 4), w)
            top, left = (h - ch) // 2, (w - cw) // 2
            row.append(images.resize(rgb[..., top:top + ch, left:left + cw], TILE_H, TILE_W))
        rows.append(torch.cat(row, 3))
    return torch.cat(rows, 2)


def _luminance_detail(rgb):
    gray = (0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]).unsqueeze(1)
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
    return F.conv2d(gray, kernel).flatten()


def content_detail(result, content):
    """Correlation of the result's fine detail with the content's."""
    a, b = _luminance_detail(result), _luminance_detail(content)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / (a.norm() * b.norm() + 1e-12))


@torch.no_grad()
def crop_style_distance(model, result, style, side=256, count=12):
    """Mean Gram distance (FINE_LAYERS) of `count` crops of the result against the style seen beside it."""
    h, w = result.shape[-2:]
    sw, sh = style_seen((style.shape[-1], style.shape[-2]), (w, h), 1.0)
    seen = images.resize(style, sh, sw)
    targets = {n: tiles.losses.gram(f) for n, f in model(seen, tiles.FINE_LAYERS, "avg").items()}
    generator = torch.Generator().manual_seed(0)
    total = 0.0
    for _ in range(count):
        y = int(torch.randint(0, h - side, (1,), generator=generator))
        x = int(torch.randint(0, w - side, (1,), generator=generator))
        features = model(result[..., y:y + side, x:x + side], tiles.FINE_LAYERS, "avg")
        total += sum(float((tiles.losses.gram(features[n]) - targets[n]).norm() / targets[n].norm())
                     for n in tiles.FINE_LAYERS) / len(tiles.FINE_LAYERS)
    return total / count


def run_variant(variant, width, height, out, cancel):
    """One variant in this process: prints a JSON line of figures; saves the result to `out`."""
    runtime = device.choose()
    model = load_vgg19(None, engine.ALL_LAYERS).to(runtime.device)
    content = collage(width, height)
    style = images.from_wire(images.load_file(sample(STYLE)))[0]
    device.MemoryMeter(runtime)   # VmHWM from here
    meter = device.MemoryMeter(runtime)
    stop, asked, armed = threading.Event(), [], []

    def cancel_now():
        asked.append(time.perf_counter())
        stop.set()
    began, first, result = time.perf_counter(), None, None
    for progress in engine.stylize(model, runtime, content, [(style, 1.0)], VARIANTS[variant], stop.is_set):
        if progress.stage == "working size done" and first is None:
            first = time.perf_counter() - began
        last_pass = re.search(r"pass (\d+) of \1\)", progress.stage)
        if cancel and last_pass and not armed:   # the last pass's first step is done: ask in its next one
            armed.append(threading.Timer(3.0, cancel_now))
            armed[0].start()
        if progress.done:
            result = progress.image
    seconds = time.perf_counter() - began
    figures = {"variant": variant, "seconds": round(seconds, 1), "peak_mib": round(meter.peak_bytes() / 2 ** 20),
               "first_result_s": round(first if first is not None else seconds, 1), "device": runtime.description}
    if cancel:
        figures["cancel_s"] = round(time.perf_counter() - asked[0], 2) if asked else None
        print(json.dumps(figures), flush=True)
        return
    figures["content_d"], figures["style_d"] = quality.distances(result, content, style)
    figures["crop_style_d"] = round(crop_style_distance(model.cpu(), result, style), 4)
    figures["content_detail"] = round(content_detail(result, content), 3)
    torch.save(result, out)
    print(json.dumps(figures), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--canvas", default="2048x1536")
    parser.add_argument("--crops", help="save 1:1 crops (content | working | full) across a tile border here")
    parser.add_argument("--cancel", action="store_true", help="time a cancel in the last pass instead")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="which of %s" % ", ".join(VARIANTS))
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    width, height = (int(v) for v in args.canvas.split("x"))
    if args.variant:
        return run_variant(args.variant, width, height, args.out, args.cancel)
    variants = ["full"] if args.cancel else args.variants.split(",")
    print("%dx%d collage, style %s, defaults otherwise" % (width, height, STYLE), flush=True)
    rows, results = [], {}
    for variant in variants:
        out = "/tmp/fullres_%s.pt" % variant
        line = subprocess.run([sys.executable, __file__, "--variant", variant, "--canvas", args.canvas, "--out", out]
                              + (["--cancel"] if args.cancel else []), capture_output=True, text=True, check=True)
        figures = json.loads(line.stdout.strip().splitlines()[-1])
        rows.append(figures)
        if not args.cancel:
            results[variant] = torch.load(out)
    print("device: %s" % rows[0]["device"])
    keys = [k for k in rows[0] if k not in ("variant", "device")]
    print("| variant | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for figures in rows:
        print("| %s | " % figures["variant"] + " | ".join(
            ("%.4f" % v if isinstance(v, float) and v < 10 else str(v)) for v in (figures[k] for k in keys)) + " |")
    if args.crops and len(results) == len(VARIANTS):
        save_crops(collage(width, height), results, args.crops)


def save_crops(content, results, path):
    """Two 384 px crops at 1:1, each content | working | full: one across the collage's and the tiles' borders."""
    from PIL import Image
    strips = []
    for y, x in ((TILE_H - 192, TILE_W - 192), (2 * TILE_H - 100, 3 * TILE_W - 150)):
        crops = [t[..., y:y + 384, x:x + 384] for t in (content, results["working"], results["full"])]
        strips.append(torch.cat(crops, 3))
    strip = torch.cat(strips, 2)[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(strip).save(path)
    print("crops (content | working, detail 1 | full, 1:1 pixels) saved to", path)


if __name__ == "__main__":
    main()
