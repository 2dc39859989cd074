"""Warm re-runs against cold runs, side by side in one process, at the defaults (512 px).

    .venv/bin/python benchmarks/iterate.py [--size 512] [--pairs 2] [--profile]

For each pair, through jobs.run with a key and a warm.Memory (the server's path): a cold run; a
warm re-run after a brush stroke over ~5 % of the layer (a thick coloured polyline painted into the
content); warm re-runs after a strength change (50 -> 65, 50 -> 35), each followed by the same
job again (what live mode sends once the artist stays idle after a new setting).  Each warm run is
compared with a cold run of the same job (the stroked content; strength 65 or 35): wall time over
the first cold run's, and both distances of backend/quality.py in % against that cold run's.  A
cold run with the stroke 2/255 redder shows how far the yardstick moves for the same job.  One more row, no run:
the cold run's own rendering of the stroke pasted into the first cold result where the content
changed (the warm run's soft mask): what an update that keeps the unchanged pixels measures even
with the cold run's own stroke.
--profile also prints benchmarks/profile_step.py's breakdown of one step.
"""

import argparse
import copy
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
SAMPLES = os.path.join(os.path.dirname(ROOT), "shared", "samples")
PAIRS = [("chelsea.png", "starry_night_google.jpg"), ("astronaut.png", "the_scream.jpg"),
         ("rocket.jpg", "starry_night_google.jpg"), ("coffee.png", "great_wave_hokusai.jpg")]
STROKE = (0.85, 0.2, 0.15)    # a red brush
STROKE_AREA = 0.05

import torch  # noqa: E402

from backend import device, engine, images, jobs, quality, warm  # noqa: E402
from backend.model import load_vgg19  # noqa: E402


def paint_stroke(rgb, area=STROKE_AREA, colour=STROKE):
    """rgb with a thick antialiased polyline across it covering about `area` of the pixels."""
    _, _, h, w = rgb.shape
    points = [(0.15, 0.3), (0.4, 0.55), (0.6, 0.35), (0.85, 0.6)]
    pts = [(x * w, y * h) for x, y in points]
    ys, xs = torch.meshgrid(torch.arange(h).float() + 0.5, torch.arange(w).float() + 0.5, indexing="ij")
    dist = torch.full((h, w), float("inf"))
    length = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        dx, dy = x1 - x0, y1 - y0
        seg = (dx * dx + dy * dy) ** 0.5
        length += seg
        t = (((xs - x0) * dx + (ys - y0) * dy) / (seg * seg)).clamp(0, 1)
        dist = torch.minimum(dist, ((xs - x0 - t * dx) ** 2 + (ys - y0 - t * dy) ** 2).sqrt())
    radius = area * h * w / length / 2
    alpha = (radius + 0.5 - dist).clamp(0, 1).view(1, 1, h, w)
    paint = torch.tensor(colour).view(1, 3, 1, 1)
    return rgb * (1 - alpha) + paint * alpha, float(alpha.mean())


def to_wire(rgb):
    return images.to_wire(rgb, None, "RGBA8")


def run(model, runtime, content, style, settings, key=None, memory=None):
    """(result tensor, seconds, warm?, steps taken) of one job through jobs.run, as the server runs it."""
    start = time.perf_counter()
    steps, last = 0, None
    for progress, image in jobs.run(model, runtime, content, [(style, 1.0)], settings, key=key, memory=memory):
        steps += not progress.done
        last = (progress, image)
    seconds = time.perf_counter() - start
    progress, image = last
    return images.from_wire(image)[0], seconds, progress.warm, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--pairs", type=int, default=len(PAIRS))
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    runtime = device.choose()
    model = load_vgg19(None, engine.ALL_LAYERS).to(runtime.device)
    print("Device: %s; torch %s; %s, %d CPU threads; size %d px, default settings"
          % (runtime.description, torch.__version__, platform.processor() or platform.machine(),
             torch.get_num_threads(), args.size))
    print("| content | style | run | seconds | / cold | warm | steps | content d | style d | "
          "content d vs cold | style d vs cold |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for content_name, style_name in PAIRS[:args.pairs]:
        for row in rows_of_pair(model, runtime, content_name, style_name, args.size):
            print(row, flush=True)
    print("load average after: %s" % open("/proc/loadavg").read().split()[:3])
    if args.profile:
        from benchmarks import profile_step
        profile_step.main([])


def rows_of_pair(model, runtime, content_name, style_name, size):
    content = images.load_file(os.path.join(SAMPLES, content_name))
    style = images.load_file(os.path.join(SAMPLES, style_name))
    rgb, style_rgb = images.from_wire(content)[0], images.from_wire(style)[0]
    stroked_rgb, covered = paint_stroke(rgb)
    redder_rgb, _ = paint_stroke(rgb, colour=(STROKE[0] + 2 / 255, STROKE[1] + 2 / 255, STROKE[2]))
    stroked = to_wire(stroked_rgb)
    base, strong, weak = {"size": size}, {"size": size, "strength": 65}, {"size": size, "strength": 35}
    memory = warm.Memory()
    # Every warm run starts from the first cold run's memory: each strength change gets its own copy.
    jobs_to_run = [  # label, content, its tensor, settings, key, index of the cold run it is compared with
        ("cold", content, rgb, base, "key", None),
        ("cold, stroked content", stroked, stroked_rgb, base, None, None),
        ("cold, the stroke 2/255 redder", to_wire(redder_rgb), redder_rgb, base, None, 1),
        ("cold, strength 65", content, rgb, strong, None, None),
        ("cold, strength 35", content, rgb, weak, None, None),
        ("warm after a stroke over %.1f %%" % (100 * covered), stroked, stroked_rgb, base, "key", 1),
        ("warm after strength 50 -> 65", content, rgb, strong, "key", 3),
        ("... again, nothing changed (live mode's second update)", content, rgb, strong, "key", 3),
        ("warm after strength 50 -> 35", content, rgb, weak, "key", 4),
        ("... again, nothing changed (live mode's second update)", content, rgb, weak, "key", 4),
    ]
    results, outputs, after_cold = [], [], memory
    for label, wire_content, target, settings, key, ref in jobs_to_run:
        if label.startswith("warm after strength"):
            memory = copy.deepcopy(after_cold)
        out, seconds, was_warm, steps = run(model, runtime, wire_content, style, settings, key, memory)
        if label == "cold":
            after_cold = copy.deepcopy(memory)
        outputs.append(out)
        results.append((label, seconds, was_warm, steps, quality.distances(out, target, style_rgb), ref))
    grow = warm.repaint_margin(*rgb.shape[-2:])   # the mask warm.begin makes, at the layer's size
    mask = warm.grown(warm.changed(rgb, stroked_rgb), grow, grow)
    first, stroked_cold = outputs[0], outputs[1]
    pasted = first * (1 - mask) + mask * stroked_cold
    results.insert(6, ("cold stroke pasted into the first cold result", 0.0, False, 0,
                       quality.distances(pasted, stroked_rgb, style_rgb), 1))
    cold_seconds = results[0][1]
    for label, seconds, was_warm, steps, (c, s), ref in results:
        vs = ("", "")
        if ref is not None:
            rc, rs = results[ref][4]
            vs = ("%+.1f %%" % (100 * (c - rc) / rc), "%+.1f %%" % (100 * (s - rs) / rs))
        yield "| %s | %s | %s | %.1f | %.2f | %s | %d | %.3f | %.3f | %s | %s |" % (
            content_name, style_name, label, seconds, seconds / cold_seconds, "yes" if was_warm else "no",
            steps, c, s, vs[0], vs[1])


if __name__ == "__main__":
    main()
