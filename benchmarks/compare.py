"""Side-by-side benchmark: krita-nst against the PyPI package `pastiche` on the same pairs and size.

    .venv/bin/python benchmarks/compare.py [--size 384] [--pastiche-steps 300] [--out docs/benchmark.md]

pastiche is installed for the benchmark only (into .bench/, never into the product's venv).
For each pair it prints wall time, content and style distance (backend/quality.py) for both, and
the ratio of our time to reach pastiche's quality (both distances at or below pastiche's after
its step budget) to pastiche's time. Model loading is excluded for both: the plugin keeps its
backend warm. Then seconds per step and peak memory of ours at 512, 1024 and 2048 px.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
BENCH = os.path.join(ROOT, ".bench")
SAMPLES = os.path.join(os.path.dirname(ROOT), "shared", "samples")
# rocket x Starry Night stands in for the classic Tubingen x Starry Night (no Tubingen photo here):
# buildings and sky, the pair where an earlier default fell behind pastiche on style distance.
PAIRS = [("chelsea.png", "starry_night_google.jpg"), ("astronaut.png", "the_scream.jpg"),
         ("coffee.png", "starry_night_google.jpg"), ("rocket.jpg", "starry_night_google.jpg")]
PASTICHE = "pastiche==1.6.0"

import torch  # noqa: E402

from backend import device, engine, images, quality  # noqa: E402
from backend.model import load_vgg19  # noqa: E402
from krita_nst.core.sizes import fit  # noqa: E402


def ensure_pastiche():
    target = os.path.join(BENCH, "pastiche")
    if not os.path.isdir(os.path.join(target, "pastiche")):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                        "--target", target, PASTICHE], check=True)
    sys.path.insert(0, target)
    import pastiche.pastiche as p
    return p


def load(name, longest=None):
    rgb = images.from_wire(images.load_file(os.path.join(SAMPLES, name)))[0]
    return images.scale_to(rgb, longest) if longest else rgb


def run_pastiche(p, content_path, style_path, size, steps):
    artist = p.PasticheArtist(content_path, [style_path], device="cpu" if not torch.cuda.is_available() else "cuda",
                              size=size)
    start = time.perf_counter()
    for _ in range(steps):
        artist.draw()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    x = artist.pastiche.detach().cpu().squeeze(0).clone()
    for i, shift in enumerate(p.VGG_MEAN):
        x[i] += shift
    rgb = x[[2, 1, 0]].unsqueeze(0).clamp(0, 255) / 255.0
    return rgb, seconds


def run_ours(model, runtime, content, style, settings, target=None):
    """(result, seconds, seconds to reach target quality or None); quality checks are not timed."""
    content_full = content
    spent, reached, last = 0.0, None, None
    tick = time.perf_counter()
    for progress in engine.stylize(model, runtime, content, [(style, 1.0)], dict(settings, preview_every=1)):
        spent += time.perf_counter() - tick
        last = progress
        if target is not None and reached is None and progress.image is not None:
            c, s = quality.distances(progress.image, content_full, style)
            if c <= target[0] and s <= target[1]:
                reached = spent
        tick = time.perf_counter()
    return last.image, spent, reached


def variants(model, runtime, pairs, size):
    """Ours at the defaults against fp32 (does reduced precision cost quality?) and max pooling."""
    fp32 = device.choose(str(runtime.device), "fp32")
    runs = [("default (%s)" % runtime.description, runtime, "avg"), ("fp32", fp32, "avg"),
            ("max pooling", runtime, "max")]
    lines = ["", "Ours, variants at %d px (content d / style d, seconds):" % size, "",
             "| content | style | " + " | ".join(name for name, _, _ in runs) + " |",
             "|---|---|" + "---|" * len(runs)]
    print("\n".join(lines), flush=True)
    for content_name, style_name in pairs:
        content, style = load(content_name), load(style_name)
        cells = []
        for _, rt, pooling in runs:
            out, seconds, _ = run_ours(model, rt, content, style, {"size": size, "pooling": pooling})
            c, s = quality.distances(out, content, style)
            cells.append("%.3f / %.3f, %.1f s" % (c, s, seconds))
        lines.append("| %s | %s | %s |" % (content_name, style_name, " | ".join(cells)))
        print(lines[-1], flush=True)
    return lines


def scaling(sizes, steps=3):
    """Seconds per step and peak memory at each size, each in a fresh process (peak RSS is per process)."""
    rows = []
    for size in sizes:
        code = ("import sys; sys.argv=['x']; sys.path.insert(0, %r); from benchmarks.compare import _one_size; "
                "_one_size(%d, %d)" % (ROOT, size, steps))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        line = [l for l in out.stdout.splitlines() if l.startswith("{")]
        rows.append(json.loads(line[-1]) if line else {"size": size, "error": out.stderr.strip()[-300:]})
    return rows


def _one_size(size, steps):
    import resource
    runtime = device.choose()
    model = load_vgg19(None, engine.ALL_LAYERS).to(runtime.device)
    content = load("astronaut.png", size)   # the photo upscaled: content size does not change the cost
    style = load("starry_night_google.jpg")
    settings = {"size": size, "steps": steps + 1, "preview_every": 1000, "scales": 1}
    times, tick = [], time.perf_counter()
    for _ in engine.stylize(model, runtime, content, [(style, 1.0)], settings):
        if runtime.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - tick)
        tick = time.perf_counter()
    per_step = sorted(times[1:steps + 1])[len(times[1:steps + 1]) // 2]  # median, first step excluded
    if runtime.device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2 ** 30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    print(json.dumps({"size": size, "seconds_per_step": round(per_step, 3), "peak_gib": round(peak, 2),
                      "device": runtime.description}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--pastiche-steps", type=int, default=300)
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help="how many of the sample pairs")
    parser.add_argument("--scaling", default="512,1024,2048", help="sizes for seconds/step and memory ('' skips)")
    parser.add_argument("--variants", action=argparse.BooleanOptionalAction, default=True,
                        help="also run ours in fp32 and with max pooling, to show the defaults by measurement")
    parser.add_argument("--out", help="also write the tables (markdown) here")
    parser.add_argument("--sheet", help="save a contact sheet (PNG) of the first pair here")
    args = parser.parse_args()
    p = ensure_pastiche()
    runtime = device.choose()
    model = load_vgg19(None, engine.ALL_LAYERS).to(runtime.device)
    lines = ["Device: %s; torch %s; %s, %d CPU threads" % (runtime.description, torch.__version__,
                                                         platform.processor() or platform.machine(),
                                                         torch.get_num_threads()),
             "", "Size %d px (longest side); pastiche %s at its defaults, %d L-BFGS steps; ours at defaults."
             % (args.size, PASTICHE, args.pastiche_steps), "",
             "| content | style | pastiche s | ours s | pastiche content d | ours content d | pastiche style d "
             "| ours style d | our time to pastiche's quality / pastiche's time |",
             "|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    sheet = []
    for content_name, style_name in PAIRS[:args.pairs]:
        content_path, style_path = os.path.join(SAMPLES, content_name), os.path.join(SAMPLES, style_name)
        content, style = load(content_name), load(style_name)
        theirs, their_s = run_pastiche(p, content_path, style_path, args.size, args.pastiche_steps)
        target = quality.distances(theirs, content, style)
        ours, our_s, reached = run_ours(model, runtime, content, style, {"size": args.size}, target)
        mine = quality.distances(ours, content, style)
        ratio = "%.3f" % (reached / their_s) if reached is not None else "not reached"
        row = "| %s | %s | %.1f | %.1f | %.3f | %.3f | %.3f | %.3f | %s |" % (
            content_name, style_name, their_s, our_s, target[0], mine[0], target[1], mine[1], ratio)
        lines.append(row)
        print(row, flush=True)
        if args.sheet and not sheet:
            sheet = [content, style, theirs, ours]
            for extra in ({"strength": 25}, {"strength": 75}, {"preserve_colors": "luminance"}):
                sheet.append(run_ours(model, runtime, content, style, dict(extra, size=args.size))[0])
    if args.variants:
        lines += variants(model, runtime, PAIRS[:args.pairs], args.size)
    if args.scaling:
        rows = scaling([int(s) for s in args.scaling.split(",")])
        lines += ["", "| size px | seconds/step | peak memory GiB | device |", "|---|---|---|---|"]
        for r in rows:
            if "error" in r:
                lines.append("| %d | failed: %s | | |" % (r["size"], r["error"]))
            else:
                lines.append("| %d | %.3f | %.2f | %s |"
                             % (r["size"], r["seconds_per_step"], r["peak_gib"], r["device"]))
        print("\n".join(lines[-len(rows) - 3:]), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    if args.sheet and sheet:
        save_sheet(sheet, args.sheet, ["content", "style", "pastiche", "ours", "strength 25", "strength 75",
                                       "ours, colours kept"])


def save_sheet(tensors, path, labels):
    from PIL import Image, ImageDraw
    height = 256
    tiles = []
    for t, label in zip(tensors, labels):
        h, w = (fit(t.shape[-1], t.shape[-2], height)[::-1] if t.shape[-2] >= t.shape[-1]
                else (height, round(t.shape[-1] * height / t.shape[-2])))
        small = images.resize(t.float(), h, w)[0].clamp(0, 1).mul(255).byte().permute(1, 2, 0).contiguous().numpy()
        tile = Image.fromarray(small)
        ImageDraw.Draw(tile).text((6, 6), label, fill=(255, 255, 255))
        tiles.append(tile)
    sheet = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), height), "white")
    x = 0
    for t in tiles:
        sheet.paste(t, (x, 0))
        x += t.width + 4
    sheet.save(path)


if __name__ == "__main__":
    main()
