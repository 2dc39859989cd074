"""Animation: coherent frames (temporal > 0) against independent ones (temporal = 0) on a clip whose motion is known.

    nice -n 10 .venv/bin/python benchmarks/animation.py [--frames 24] [--steps 100] [--temporal 100]
        [--strips docs] [--photo coffee.png] [--style starry_night_google.jpg]

The clip: a camera that pans across and zooms into a photo from ../shared/samples at the photo's own
resolution (never enlarged), with a disc cut from another photo moving across it, FRAMES frames at
384x288.  Because the clip is made here, the true motion of every pixel is known: flicker is the mean
absolute difference between each stylised frame and the previous stylised frame moved by that true
motion, over the pixels visible in both (the disc's edge and the frame's border left out).  The content
frames' own flicker under the same measure (resampling alone) is printed as the floor.

Prints flicker, each frame's content and style distances (backend/quality.py) against the independent
run's, and the wall times; with --strips, saves contact strips of frames 1, 8, 16, 24 both ways and a
strip of each one's difference from the frame before (moved by the true motion), as PNGs there.
"""

import argparse
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
SAMPLES = os.path.join(os.path.dirname(ROOT), "shared", "samples")
WIDTH, HEIGHT = 384, 288

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from backend import animation, device, engine, images, quality  # noqa: E402
from backend.model import load_vgg19  # noqa: E402


def load(name):
    return images.from_wire(images.load_file(os.path.join(SAMPLES, name)))[0]


def sample_at(image, points):
    """image (1xCxHxW) at points (HxWx2, pixel coordinates x, y; pixel centres at integers), bicubic."""
    h, w = image.shape[-2:]
    grid = torch.stack([(points[..., 0] + 0.5) / w * 2 - 1, (points[..., 1] + 0.5) / h * 2 - 1], -1).unsqueeze(0)
    return F.grid_sample(image, grid, mode="bicubic", padding_mode="border", align_corners=False).clamp(0, 1)


class Clip:
    """The test clip: frames, and for each frame after the first where its pixels were in the frame before."""

    def __init__(self, photo, disc, frames):
        self.photo, self.disc, self.count = photo, disc, frames
        ys, xs = torch.meshgrid(torch.arange(HEIGHT).float(), torch.arange(WIDTH).float(), indexing="ij")
        self.pixels = torch.stack([xs, ys], -1)
        ph, pw = photo.shape[-2:]
        # The camera: a window that zooms from 1.2x the frame's size to 1.0x (never past the photo's own
        # resolution) while panning from the photo's left to its right.
        self.windows = []
        for t in range(frames):
            f = t / max(1, frames - 1)
            scale = 1.2 - 0.2 * f
            ww, wh = WIDTH * scale, HEIGHT * scale
            x0 = (pw - ww) * (0.1 + 0.8 * f)
            y0 = (ph - wh) * (0.6 - 0.3 * f)
            self.windows.append((x0, y0, scale))
        self.radius = 48.0

    def disc_centre(self, t):
        f = t / max(1, self.count - 1)
        return torch.tensor([WIDTH * (0.8 - 0.6 * f), HEIGHT * (0.3 + 0.4 * f)])

    def frame(self, t):
        x0, y0, scale = self.windows[t]
        background = sample_at(self.photo, self.pixels * scale + torch.tensor([x0, y0]))
        c = self.disc_centre(t)
        offset = self.pixels - c
        inside = (self.radius + 0.5 - offset.norm(dim=-1)).clamp(0, 1).view(1, 1, HEIGHT, WIDTH)
        dh, dw = self.disc.shape[-2:]
        disc = sample_at(self.disc, offset + torch.tensor([dw / 2, dh / 2]))   # the disc's own texture moves with it
        return background * (1 - inside) + disc * inside

    def frames(self):
        return [self.frame(t) for t in range(self.count)]

    def motion(self, t):
        """(where each pixel of frame t was in frame t-1 (HxWx2), the pixels visible in both (HxW bool))."""
        x0, y0, s = self.windows[t]
        px0, py0, ps = self.windows[t - 1]
        back = (self.pixels * s + torch.tensor([x0 - px0, y0 - py0])) / ps
        c, pc = self.disc_centre(t), self.disc_centre(t - 1)
        d_now = (self.pixels - c).norm(dim=-1)
        in_disc = d_now < self.radius
        back[in_disc] = (self.pixels - c + pc)[in_disc]
        edge = 3.0   # anti-aliased edges and resampling at the borders are left out
        d_before = (back - pc).norm(dim=-1)
        visible = ((d_now < self.radius - edge) | ((d_now > self.radius + edge) & (d_before > self.radius + edge)))
        visible &= (back[..., 0] > edge) & (back[..., 0] < WIDTH - 1 - edge)
        visible &= (back[..., 1] > edge) & (back[..., 1] < HEIGHT - 1 - edge)
        return back, visible


def flicker(clip, frames):
    """Per frame after the first: mean |frame t - frame t-1 moved by the true motion| over the visible pixels."""
    out = []
    for t in range(1, len(frames)):
        back, visible = clip.motion(t)
        moved = sample_at(frames[t - 1], back)
        out.append(float((frames[t] - moved).abs().mean(1)[0][visible].mean()))
    return out


def difference(clip, frames, t):
    """|frame t - frame t-1 moved|, 4x brighter, black where not visible in both (for the strips)."""
    back, visible = clip.motion(t)
    d = (frames[t] - sample_at(frames[t - 1], back)).abs().mul(4).clamp(0, 1)
    return d * visible.float()


def run(model, runtime, frames, style, settings, log, keep=None):
    """The stylised frames, the wall time, each frame's; keep: a folder to save each frame into as it is done."""
    began = time.perf_counter()
    results, seconds = [None] * len(frames), []
    frame_began = began
    for index, progress in animation.stylize(model, runtime, frames, [(style, 1.0)], settings):
        if progress.done:
            results[index] = progress.image
            seconds.append(time.perf_counter() - frame_began)
            frame_began = time.perf_counter()
            log("  frame %d: %d steps, %.1f s" % (index + 1, progress.step, seconds[-1]))
            if keep:
                os.makedirs(keep, exist_ok=True)
                images.save_file(images.to_wire(progress.image, None, "RGB8"), os.path.join(keep, "%02d.png" % index))
    return results, time.perf_counter() - began, seconds


def strip(tiles, path):
    """Tiles side by side with a 4 px white gap, saved as a PNG."""
    gap = torch.ones(1, 3, tiles[0].shape[-2], 4)
    row = torch.cat([t for tile in tiles for t in (tile, gap)][:-1], -1)
    images.save_file(images.to_wire(row, None, "RGB8"), path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--temporal", type=float, default=None, help="default: the setting's default")
    parser.add_argument("--follow-share", type=float, default=animation.FOLLOW_SHARE)
    parser.add_argument("--photo", default="coffee.png")
    parser.add_argument("--disc", default="rocket.jpg")
    parser.add_argument("--style", default="starry_night_google.jpg")
    parser.add_argument("--strips", help="folder to save the strips into (e.g. docs)")
    parser.add_argument("--keep", help="a folder to save every stylised frame into (coherent/, independent/)")
    parser.add_argument("--skip-independent", action="store_true", help="tuning: the coherent run only")
    args = parser.parse_args()
    animation.FOLLOW_SHARE = args.follow_share
    log = lambda text: print(text, flush=True)  # noqa: E731
    runtime = device.choose()
    model = load_vgg19(None, engine.ALL_LAYERS).to(runtime.device)
    clip = Clip(load(args.photo), load(args.disc), args.frames)
    frames, style = clip.frames(), load(args.style)
    base = {"steps": args.steps, "size": 512}
    coherent_settings = dict(base) if args.temporal is None else dict(base, temporal=args.temporal)
    log("%s, torch %s, %s, %d threads; %d frames %dx%d of %s with a disc of %s, style %s, %s" % (
        platform.processor() or platform.machine(), torch.__version__, runtime.description, torch.get_num_threads(),
        args.frames, WIDTH, HEIGHT, args.photo, args.disc, args.style, coherent_settings))
    log("coherent (temporal %s, follow share %.2f):" % (coherent_settings.get("temporal", "default"),
                                                      args.follow_share))
    coherent, coherent_s, _ = run(model, runtime, frames, style, coherent_settings, log,
                                 args.keep and os.path.join(args.keep, "coherent"))
    rows = [("content frames (the floor)", flicker(clip, frames), None, coherent_s)]
    rows.append(("coherent", flicker(clip, coherent), coherent, coherent_s))
    if not args.skip_independent:
        log("independent (temporal 0):")
        independent, independent_s, _ = run(model, runtime, frames, style, dict(base, temporal=0), log,
                                                  args.keep and os.path.join(args.keep, "independent"))
        rows.insert(1, ("independent (temporal 0)", flicker(clip, independent), independent, independent_s))
    report(rows, frames, style, args)
    if args.strips and not args.skip_independent:
        picks = [t for t in (0, 7, 15, 23) if t < len(frames)]
        os.makedirs(args.strips, exist_ok=True)
        for name, results in (("independent", independent), ("coherent", coherent)):
            strip([results[t] for t in picks], os.path.join(args.strips, "animation-%s.png" % name))
            strip([difference(clip, results, max(1, t)) for t in picks],
                  os.path.join(args.strips, "animation-%s-difference.png" % name))
        strip([frames[t] for t in picks], os.path.join(args.strips, "animation-content.png"))


def report(rows, frames, style, args):
    by_name = {name: (f, r, s) for name, f, r, s in rows}
    print("\n| run | flicker (mean abs, 0-1) | vs independent | content d | style d | time |")
    print("|---|---|---|---|---|---|")
    independent = by_name.get("independent (temporal 0)")
    dist = {}
    for name, f, results, seconds in rows:
        mean = sum(f) / len(f)
        ratio = "%.2f" % (mean / (sum(independent[0]) / len(independent[0]))) if independent else "-"
        if results is None:
            print("| %s | %.4f | %s | | | |" % (name, mean, ratio))
            continue
        dist[name] = [quality.distances(r, c, style) for r, c in zip(results, frames)]
        cd = sum(d[0] for d in dist[name]) / len(frames)
        sd = sum(d[1] for d in dist[name]) / len(frames)
        print("| %s | %.4f | %s | %.3f | %.3f | %.0f s |" % (name, mean, ratio, cd, sd, seconds))
    if independent:
        ci, si = zip(*dist["independent (temporal 0)"])
        cc, sc = zip(*dist["coherent"])
        worst_c = max(100 * (a / b - 1) for a, b in zip(cc, ci))
        worst_s = max(100 * (a / b - 1) for a, b in zip(sc, si))
        print("\nper frame, coherent against independent: content distance at most %+.1f %%, style distance at "
              "most %+.1f %% (mean %+.1f %%, %+.1f %%)" % (
                  worst_c, worst_s, 100 * (sum(cc) / sum(ci) - 1), 100 * (sum(sc) / sum(si) - 1)))
        print("time: coherent %.0f s = %.2f of the independent %.0f s" % (
            by_name["coherent"][2], by_name["coherent"][2] / independent[2], independent[2]))


if __name__ == "__main__":
    main()
