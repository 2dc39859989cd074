"""Full-resolution passes: above the working size, up to the layer's own, the style's fine texture.

The working size's result holds the composition, the colours and the big strokes; each pass
above it doubles the size and re-paints what that result could not hold: the style's texture at
1:1.  Its objective has the style's fine layers (relu1_1-relu3_1, in tiles: tiles.py) over the
whole image, an anchor that keeps the image, seen at the working size, on the working result (the
finest scales alone wash out the look the working size built), and the usual smoothness term.
"""

from functools import partial
from typing import Callable, Dict, Iterator, List, Optional

import torch
import torch.nn.functional as F

from krita_nst.core.sizes import AUTO_FULL_SECONDS

from . import device, images, losses, tiles
from .lbfgs import LBFGS
from .plan import Scale
from .progress import FULL_COST, Progress

ANCHOR = 3.0               # the anchor's weight per unit of (1 + style weight): one pair's choice, which kept the
                           # look within 1 % at the working size (docs/sharpness.md); not tuned further
TV = 0.2                   # as the working scales' TV_SCALE
HISTORY_BYTES = 640 * 2 ** 20   # L-BFGS's 50 pairs of a 4096x3072 image would be 15 GB
MIN_HISTORY, MAX_HISTORY = 2, 20
# Memory of the tiled VGG pass (activations kept for the backward, fp32 gradients) per window pixel:
# an estimate, consistent with benchmarks/fullres.py's 2.0 GB peak at 2048x1536 in 640 px windows; a
# CPU gains nothing from windows bigger than CPU_WINDOW.
BYTES_PER_PIXEL = {"reduced": 1600, "fp32": 2600}
CPU_WINDOW = 640 * 640
GPU_WINDOW = 4096 * 4096
HEADROOM = 0.6


def history_for(pixels):
    """L-BFGS pairs kept at this size: as many as HISTORY_BYTES holds, MIN_HISTORY..MAX_HISTORY."""
    return max(MIN_HISTORY, min(MAX_HISTORY, HISTORY_BYTES // (2 * 3 * 4 * pixels)))


def window_pixels(free_bytes: Optional[int], device_type: str, reduced: bool) -> int:
    """The VGG window's pixels: what free_bytes holds (None: unknown), within the device's cap."""
    cap = CPU_WINDOW if device_type == "cpu" else GPU_WINDOW
    if free_bytes is None:
        return cap
    per_pixel = BYTES_PER_PIXEL["reduced" if reduced else "fp32"]
    return max(128 * 128, min(cap, int(free_bytes * HEADROOM / per_pixel)))


def runtime_window(runtime) -> int:
    """window_pixels on this runtime's device now."""
    return window_pixels(device.available_bytes(runtime), runtime.device.type, runtime.dtype != torch.float32)


def anchor_loss(x, working):
    """How far x, seen at the working size, is from the working result, relative to that result's variance."""
    seen = F.interpolate(x, size=working.shape[-2:], mode="area")
    return (seen - working).pow(2).mean() / max(float(working.var()), 1e-6)


class Objective:
    """One pass's loss of x: returns its value and fills x.grad; the VGG runs in windows of `window` pixels."""

    def __init__(self, model, runtime, targets, working, settings, beta, window, check):
        self.model, self.runtime, self.targets, self.check = model, runtime, targets, check
        self.working, self.pooling, self.window = working.to(runtime.device), settings["pooling"], window
        self.layer_weights = tiles.balanced_weights(targets)
        self.beta = beta                      # strength means what it means at the working size
        self.anchor = ANCHOR * (1.0 + beta)
        self.tv = TV * settings["smoothness"]
        self.values = {}

    def __call__(self, x):
        self.check()
        x.grad = None
        grid = tiles.grid(x.shape[-2], x.shape[-1], int(self.window ** 0.5))
        style, _ = tiles.style_value_and_grad(self.model, self.runtime, x, self.targets, self.layer_weights, grid,
                                           self.pooling, self.check)
        assert x.grad is not None
        x.grad.mul_(self.beta)
        a, t = anchor_loss(x, self.working), losses.tv_loss(x)
        rest = self.anchor * a + self.tv * t
        rest.backward()
        self.values = {"style": float(style), "anchor": float(a.detach()), "tv": float(t.detach())}
        self.values["total"] = self.beta * self.values["style"] + float(rest.detach())
        return torch.tensor(self.values["total"])


def style_targets(model, runtime, style_images, weights, style_sizes, pooling, window, check):
    """The styles' blended Gram matrices at the fine layers, in windows (the style is as big as the canvas)."""
    blended: Dict[str, torch.Tensor] = {}
    for image, w, (sh, sw) in zip(style_images, weights, style_sizes):
        grid = tiles.grid(sh, sw, int(window ** 0.5))
        grams = tiles.grams(model, runtime, images.resize(image, sh, sw).to(runtime.device), grid, pooling, check)
        for name, g in grams.items():
            share = (w / sum(weights)) * g
            blended[name] = blended[name] + share if name in blended else share
    return blended


def estimate_seconds(passes: List[Scale], seconds_per_pixel_step: Optional[float]) -> Optional[float]:
    """The passes' time from the working scales' measured seconds per pixel-step (None: not measured)."""
    if not seconds_per_pixel_step:
        return None
    return sum(p.steps * p.height * p.width * FULL_COST * seconds_per_pixel_step for p in passes)


def skip_reason(job, passes) -> str:
    """Why resolution=auto stops at the working size on this device ('' when it goes on)."""
    if job.settings["resolution"] != "auto" or job.runtime.device.type != "cpu":
        return ""
    seconds = estimate_seconds(passes, job.seconds_per_pixel_step)
    if seconds is None or seconds <= AUTO_FULL_SECONDS:
        return ""
    last = passes[-1]
    return ("full resolution (%dx%d) would take about %d min more on this CPU: the result is the working size "
            "scaled up; Finish at Full Resolution paints it at 100 %% when you want"
            % (last.width, last.height, round(seconds / 60)))


def run(job, should_stop: Callable[[], bool], report: Callable[..., Progress]) -> Iterator[Progress]:
    """The full-resolution passes after the working scales: job.x ends at the content's size.

    report(stage, image, scale) makes the Progress of a step; previews come after every step
    (each takes seconds at these sizes).
    """
    working = job.x.detach().float().cpu().clamp(0, 1)
    x, window = working, runtime_window(job.runtime)
    gamma = job.gamma
    for number, scale in enumerate(job.passes):
        stage = "full resolution %dx%d (pass %d of %d)" % (scale.width, scale.height, number + 1, len(job.passes))
        targets = style_targets(job.model, job.runtime, job.style_images, job.weights, scale.style_sizes,
                                job.settings["pooling"], window, job.check)
        objective = Objective(job.model, job.runtime, targets, working, job.settings, job.beta, window, job.check)
        pixels = scale.height * scale.width / (x.shape[-2] * x.shape[-1])
        # A smooth upscale of the last pass, without the layer's detail: the fine detail is the style's.
        start = images.resize(x.float(), scale.height, scale.width)
        x = start.to(job.runtime.device).contiguous().requires_grad_(True)
        job.x = x
        optimizer = LBFGS(x, gamma and gamma * pixels ** 0.5, history=history_for(scale.height * scale.width))
        for _ in range(scale.steps):
            if should_stop():
                return
            optimizer.step(partial(objective, x))
            with torch.no_grad():
                x.clamp_(0, 1)
            job.values = dict(objective.values)
            yield report(stage, x, scale)
        gamma = optimizer.gamma
        x = x.detach()
    job.x = x

