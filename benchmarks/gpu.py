"""Full resolution on one GPU: 1024, 2048 and 4096 px layers, bf16 / fp16, whole or in tiles.

    .venv/bin/python benchmarks/gpu.py [--sizes 1024,2048,4096] [--quick]

Finishes within about 8 minutes on one H100 (targets there: 4096x4096 at full resolution in 30 s or
less with at most 6 GB of GPU memory).  Per run: seconds, seconds to the working-size result, peak GPU
memory (torch.cuda.max_memory_allocated), seconds per megapixel-step of the full-resolution passes,
the precision and the window (whole: one tile per pass; tiled: windows of TILED_WINDOW pixels).
The figures go into docs/benchmark.md with the GPU's name; --quick runs 256 and 512 px on any device
to check the script itself.
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import torch  # noqa: E402

from backend import device, engine, fine, images  # noqa: E402
from backend.model import load_vgg19  # noqa: E402
from benchmarks.fullres import STYLE, collage  # noqa: E402
from helpers import sample  # noqa: E402

TILED_WINDOW = 1536 * 1536


def run(model, runtime, content, style, window, settings):
    """One full-resolution run: (seconds, first result s, peak MiB, s per megapixel-step of the passes)."""
    fine.GPU_WINDOW = fine.CPU_WINDOW = window
    if runtime.device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    meter = device.MemoryMeter(runtime)
    began, first, pass_began, pass_work = time.perf_counter(), None, None, 0.0
    for progress in engine.stylize(model, runtime, content, [(style, 1.0)], dict(settings, resolution="full")):
        if progress.stage == "working size done":
            first = pass_began = time.perf_counter()
        elif progress.stage.startswith("full resolution"):
            size = progress.stage.split()[2]
            w, h = (int(v) for v in size.split("x"))
            pass_work += w * h / 1e6
    if runtime.device.type == "cuda":
        torch.cuda.synchronize()
    end = time.perf_counter()
    per = (end - pass_began) / pass_work if pass_began and pass_work else float("nan")
    return end - began, (first or end) - began, meter.peak_bytes() / 2 ** 20, per


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1024,2048,4096")
    parser.add_argument("--quick", action="store_true",
                        help="256 and 512 px layers, working size 128: check the script on any device")
    args = parser.parse_args()
    sizes = [256, 512] if args.quick else [int(s) for s in args.sizes.split(",")]
    style = images.from_wire(images.load_file(sample(STYLE)))[0]
    base = device.choose()
    name = torch.cuda.get_device_name() if base.device.type == "cuda" else base.description
    print("device: %s; torch %s" % (name, torch.__version__), flush=True)
    print("| layer | precision | window | seconds | first result s | peak MiB | s per Mpx-step |")
    print("|---|---|---|---|---|---|---|")
    precisions = ["bf16", "fp16"] if base.device.type == "cuda" else [None]
    for side in sizes:
        content = images.resize(collage(2048, 1536), side * 3 // 4, side) if side <= 2048 else \
            images.resize(collage(4096, 3072), side, side)   # 4096: the H100 target's square canvas
        for precision in precisions:
            runtime = device.choose("auto", precision or "auto")
            model = load_vgg19(None, engine.ALL_LAYERS).to(runtime.device)
            for label, window in (("whole", side * side), ("tiled", TILED_WINDOW)):
                if label == "tiled" and side * side <= TILED_WINDOW:
                    continue
                seconds, first, peak, per = run(model, runtime, content, style, window,
                                                {"size": 128, "steps": 20} if args.quick else {})
                print("| %dx%d | %s | %s | %.1f | %.1f | %.0f | %.3f |" % (
                    content.shape[-1], content.shape[-2], runtime.description.split(", ")[1], label, seconds, first,
                    peak, per), flush=True)


if __name__ == "__main__":
    main()
