"""Gatys et al. style transfer: the pixels of the target image optimised against a frozen VGG19.

`stylize` is the one optimisation loop.  It yields `Progress` after every step (with a preview
image every few steps) and a last `Progress` with `done=True` holding the full-size result, so
the server, the CLI and the tests all drive it the same way.
"""

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import torch

from krita_nst.core.settings import check_settings

from . import color, fine, images, losses, warm
from .device import Runtime
from .errors import InputError
from .lbfgs import LBFGS
from .losses import style_weight
from .model import VGG19Features
from .objective import (  # noqa: F401
    ALL_LAYERS,
    CONTENT_LAYER,
    STYLE_LAYER_WEIGHTS,
    STYLE_LAYERS,
    TV_SCALE,
    Temporal,
    content_target,
    objective,
    style_targets,
    style_weights,
)
from .plan import Scale, full_passes, plan
from .progress import Progress, Work
from .warm import Start, Working

PLATEAU_WINDOW = 20    # a scale ends early when the loss fell less than PLATEAU_TOL over this many steps
PLATEAU_TOL = 2e-3
PREVIEW_SECONDS = 2.0  # a preview at least this often, whatever preview_every says (big images: every step)


class _Stopped(Exception):
    """should_stop said yes in the middle of a VGG pass (forward or backward): abandon the job now."""


def _optimizer(name, x, gamma):
    if name == "adam":
        return torch.optim.Adam([x], lr=0.02)
    return LBFGS(x, gamma)


def initial(content, init, generator):
    """A cold run's first image: the content, noise, or a blend of both."""
    noise = torch.rand(content.shape, generator=generator).to(content)
    if init == "noise":
        return noise
    if init == "blend":
        return 0.6 * content + 0.4 * noise
    return content.clone()


def stylize(model: VGG19Features, runtime: Runtime, content: torch.Tensor, styles: List[Tuple[torch.Tensor, float]],
            settings: Dict[str, Any], should_stop: Callable[[], bool] = lambda: False,
            max_pixels: Optional[int] = None, previous: Optional[Working] = None,
            init: Optional[torch.Tensor] = None, temporal: Optional[Temporal] = None,
            finish: Optional[torch.Tensor] = None) -> Iterator[Progress]:
    """Yield Progress for every step; the last one has done=True and the result at the content's size.

    model: a VGG19Features covering ALL_LAYERS.  content: 1x3xHxW RGB in 0-1.
    styles: [(1x3xHxW RGB, weight)].  settings: a dict checked by settings.check_settings.
    should_stop: polled between steps and between the VGG's layers, forward and backward, so that a
        cancel takes effect within one layer's time; when it says True the loop returns without a result.
    max_pixels: the most pixels the finest scale may have (memory); the first Progress says if it bit.
    previous: an earlier run of this content's thread with the same styles (warm.Memory.recall); when
        its working size is this run's, the run starts warm from its result: a short run (warm.begin).
    init: 1x3xHxW in 0-1 at the content's size: a cold run's first image instead of settings["init"]
        (animation: the previous frame's result warped to this one).
    temporal: a Temporal term at the content's size, added to every scale's objective (animation).
    finish: an earlier result at the content's size: the working scales are skipped and the run is its
        full-resolution passes, anchored on it (Finish at Full Resolution).

    Above the working size the run goes on in full-resolution passes (fine.py) unless settings say
    resolution=working: first a Progress with the working result at the content's size (what a
    working-size run gives, as soon), then a preview after every pass step.
    """
    def check():
        if should_stop():
            raise _Stopped

    try:
        job = _job(model.to(runtime.device), runtime, content, styles, settings, max_pixels, previous, check)
        job.init, job.temporal = init, temporal
        if finish is not None:
            job.work.drop(job.scales)
            job.x, job.scales, job.total = images.resize(finish, job.scales[-1].height, job.scales[-1].width), [], \
                sum(p.steps for p in job.passes)
        for index, scale in enumerate(job.scales):
            yield from _scale(job, index, scale, should_stop)
        if job.passes:
            yield from _full(job, should_stop)
        yield _done(job)
    except _Stopped:
        return


@dataclass
class _Job:
    """One run: what it was given and planned (fixed), and where its optimisation stands (changes)."""
    model: VGG19Features
    runtime: Runtime
    content: torch.Tensor
    style_images: List[torch.Tensor]
    weights: List[float]
    settings: Dict[str, Any]
    check: Callable[[], None]
    scales: List[Scale]
    note: str
    beta: float
    start: Optional[Start]
    known: Dict[Any, Dict[str, torch.Tensor]]
    generator: torch.Generator
    began: float
    total: int = 0
    step: int = 0
    x: Optional[torch.Tensor] = None
    gamma: Optional[float] = None
    last_preview: float = 0.0
    values: Dict[str, float] = field(default_factory=dict)
    used: Dict[Any, Dict[str, torch.Tensor]] = field(default_factory=dict)
    init: Optional[torch.Tensor] = None
    temporal: Optional[Temporal] = None
    passes: List[Scale] = field(default_factory=list)      # full resolution, after the working scales
    work: Work = field(default_factory=Work)
    seconds_per_pixel_step: Optional[float] = None         # measured at the finest working scale
    working: Optional[torch.Tensor] = None                 # the working size's result, once known


def _job(model, runtime, content, styles, settings, max_pixels, previous, check):
    """The checked inputs, the scales and where the run starts (cold, or warm from `previous`)."""
    settings = check_settings(settings)
    if not styles:
        raise InputError("no style image given")
    weights = style_weights(styles)
    began = time.perf_counter()
    style_images = color.recoloured([s for s, _ in styles], content, settings["preserve_colors"])
    scales, note = plan(content.shape[-2:], [s.shape[-2:] for s in style_images], settings, max_pixels)
    beta = style_weight(settings["strength"])
    scales, start, known = warm.begin(previous, scales, content, beta, settings)
    passes = full_passes((scales[-1].height, scales[-1].width), content.shape[-2:],
                         [s.shape[-2:] for s in style_images], settings)
    generator = torch.Generator().manual_seed(settings["seed"])
    torch.manual_seed(settings["seed"])
    job = _Job(model, runtime, content, style_images, weights, settings, check, scales, note, beta, start, known,
               generator, began, total=sum(s.steps for s in scales + passes), gamma=start.gamma if start else None,
               last_preview=time.perf_counter(), passes=passes)
    job.work.plan(scales + passes)
    return job


def _start_image(job, scale, scaled_content):
    """The image a scale starts from: the warm start's, else the content (or noise), else the coarser result."""
    coarse = None if job.x is None else job.x.detach().float().cpu()
    if job.start is not None:
        return job.start.image_at(scale, coarse, scaled_content)
    if coarse is None and job.init is not None:
        return images.resize(job.init, *scaled_content.shape[-2:])
    if coarse is None:
        return initial(scaled_content, job.settings["init"], job.generator)
    return images.upscale(coarse, scaled_content)


def _scale(job, index, scale, should_stop):
    """Optimise one scale of the pyramid, yielding Progress after each step."""
    model, runtime, settings, pooling = job.model, job.runtime, job.settings, job.settings["pooling"]
    stage = "%dx%d" % (scale.width, scale.height)
    scaled_content = images.resize(job.content, scale.height, scale.width)
    content_features = content_target(model, runtime, scaled_content, job.check, pooling)
    target = (tuple(scale.style_sizes), pooling)
    grams = style_targets(model, runtime, job.style_images, job.weights, scale.style_sizes, job.check,
                          job.known.get(target), pooling)
    job.used[target] = {name: g.detach().cpu() for name, g in grams.items()}
    content_scale, layer_weights = losses.balance(content_features, grams, STYLE_LAYER_WEIGHTS)
    start_image = _start_image(job, scale, scaled_content)
    if job.x is not None:
        # L-BFGS's first step here is sized from the coarser scale's curvature: measured, the inverse
        # curvature grows about 2x per halving, as the square root of the pixel count.
        pixels = (scale.height * scale.width) / (job.x.shape[-2] * job.x.shape[-1])
        job.gamma = job.gamma and job.gamma * pixels ** 0.5
    # The optimised pixels stay contiguous (flat for L-BFGS); the VGG gets a channels_last view.
    x = job.x = start_image.to(runtime.device).contiguous().requires_grad_(True)
    optimizer = _optimizer(settings["optimizer"], x, job.gamma)
    only = None if job.start is None else job.start.moving(scale)   # after a stroke: only around it
    only = only if only is None else only.to(runtime.device)
    term_weights = (content_scale, layer_weights, job.beta, TV_SCALE * settings["smoothness"])
    temporal = job.temporal and job.temporal.at(scale.height, scale.width)

    def closure():
        job.check()
        x.grad = None
        loss, terms = objective(model, runtime, x, content_features, grams, term_weights, job.check, pooling,
                                temporal)
        job.check()
        loss.backward()
        if only is not None:
            x.grad.mul_(only)
        job.values.update((name, term.item()) for name, term in terms.items())
        return loss

    history: List[float] = []
    began = time.perf_counter()
    for i in range(scale.steps):
        if should_stop():
            raise _Stopped
        optimizer.step(closure)
        job.work.did(scale)
        job.seconds_per_pixel_step = (time.perf_counter() - began) / ((i + 1) * scale.height * scale.width)
        if settings["optimizer"] == "adam":
            with torch.no_grad():
                x.clamp_(0, 1)
        job.step += 1
        history.append(job.values["total"])
        # A warm run is short and its loss is mostly the unchanged image's: no plateau stop.
        last_of_scale = i == scale.steps - 1 or (not job.start and _plateaued(history))
        preview = None
        now = time.perf_counter()
        if job.step % settings["preview_every"] == 0 or last_of_scale or now - job.last_preview >= PREVIEW_SECONDS:
            preview, job.last_preview = _finish(x, job.content, settings), now
        if last_of_scale:
            job.work.did(scale, scale.steps - 1 - i, timed=False)
        yield _progress(job, stage, preview, now)
        if last_of_scale:
            job.step = sum(s.steps for s in job.scales[:index + 1])
            break
    job.gamma = getattr(optimizer, "gamma", None)


def _progress(job, stage, preview, now=None):
    now = time.perf_counter() if now is None else now
    progress = Progress(job.step, job.total, stage, dict(job.values), preview, seconds=now - job.began, note=job.note,
                        warm=job.start is not None, fraction=job.work.fraction)
    job.note = ""
    return progress


def _full(job, should_stop):
    """The full-resolution passes, after the working result at the content's size (unless auto skips them)."""
    job.working = job.x.detach().float().cpu().clamp(0, 1)
    reason = fine.skip_reason(job, job.passes)
    if reason:
        job.work.drop(job.passes)
        job.total -= sum(p.steps for p in job.passes)
        job.passes, job.note = [], reason
        return
    yield _progress(job, "working size done", _finish(_upscaled(job, job.working), job.content, job.settings))

    def report(stage, x, scale):
        job.step += 1
        job.work.did(scale)
        return _progress(job, stage, _finish(x, job.content, job.settings))
    yield from fine.run(job, should_stop, report)
    if should_stop():
        raise _Stopped


def _upscaled(job, working):
    return images.upscale(working, job.content, job.settings["detail"])


def _done(job):
    """The last Progress: the result at the content's size, and the run at its working size to remember."""
    assert job.x is not None, "plan() gives at least one scale"
    working = job.working if job.working is not None else job.x.detach().float().cpu().clamp(0, 1)
    full = job.passes and job.x.shape[-2:] == job.content.shape[-2:]
    result = job.x.detach().float().cpu() if full else _upscaled(job, working)
    if job.settings["preserve_colors"] == "luminance":
        result = color.luminance_transfer(result, job.content)
    return Progress(job.total, job.total, "done", dict(job.values), result.clamp(0, 1), done=True,
                    seconds=time.perf_counter() - job.began, warm=job.start is not None, fraction=1.0, full=bool(full),
                    working=Working.of_run(job.content, working, job.gamma, job.beta, job.settings, job.used))


def _plateaued(history):
    if len(history) <= PLATEAU_WINDOW:
        return False
    before, now = min(history[:-PLATEAU_WINDOW]), min(history[-PLATEAU_WINDOW:])
    return before > 0 and (before - now) / before < PLATEAU_TOL


def _finish(x, content, settings):
    """A preview image on the CPU, with the content's colours kept when asked."""
    image = x.detach().float().cpu().clamp(0, 1).contiguous()
    if settings["preserve_colors"] == "luminance":
        image = color.luminance_transfer(image, images.resize(content, *image.shape[-2:]))
    return image
