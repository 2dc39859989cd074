"""Gatys et al. style transfer: the pixels of the target image optimised against a frozen VGG19.

`stylize` is the one optimisation loop.  It yields `Progress` after every step (with a preview
image every few steps) and a last `Progress` with `done=True` holding the full-size result, so
the server, the CLI and the tests all drive it the same way.
"""

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import torch

from krita_nst.core.settings import check_settings

from . import color, images, losses
from .device import Runtime
from .lbfgs import LBFGS
from .model import VGG19Features
from .plan import COARSEST, MIN_SIDE, InputError, Scale, plan, style_size  # noqa: F401  (the engine's API)
from .starts import moving, start_of, upscale, warm_start_of
from .warm import Working, global_settings

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_LAYER_WEIGHTS = {name: 1.0 / len(STYLE_LAYERS) for name in STYLE_LAYERS}
ALL_LAYERS = (CONTENT_LAYER,) + STYLE_LAYERS

TV_SCALE = 0.2         # smoothness 1.0 means this TV weight (TV is a mean of squares in 0-1 units)
PLATEAU_WINDOW = 20    # a scale ends early when the loss fell less than PLATEAU_TOL over this many steps
PLATEAU_TOL = 2e-3
PREVIEW_SECONDS = 2.0  # a preview at least this often, whatever preview_every says (big images: every step)


class _Stopped(Exception):
    """should_stop said yes in the middle of a VGG pass (forward or backward): abandon the job now."""


def style_weight(strength):
    """Strength 0-100 to the style/content weight ratio beta/alpha: log-linear, monotone, 0 means none."""
    if strength <= 0:
        return 0.0
    # The terms are relative (see _balance), so one calibration holds for every image: 50 -> 10
    # beats pastiche's default on both distances on every sample pair (docs/benchmark.md);
    # each 10 points multiply it by 3.16.
    return 10.0 ** (strength / 20.0 - 1.5)


@dataclass
class Progress:
    step: int
    total: int
    stage: str
    losses: Dict[str, float]
    image: Optional[torch.Tensor] = None     # 1x3xHxW RGB in 0-1: a preview, or the result when done
    done: bool = False
    seconds: float = 0.0
    note: str = ""                           # something the artist should know (e.g. size lowered)
    warm: bool = False                       # started from a previous run's result (see warm.py)
    working: Optional[Working] = None   # when done: the run at its working size, for a later warm start


def _style_weights(styles):
    """The blend weights as floats, or an InputError that names the bad one."""
    weights = []
    for i, (_, w) in enumerate(styles):
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise InputError("style weight %d must be a number >= 0, not %r" % (i + 1, w))
        weights.append(float(w))
    if sum(weights) <= 0:
        raise InputError("the style weights are all 0: give at least one style a weight above 0")
    return weights


def _balance(content_features, grams):
    """Weights that make each term relative to its target's size: (content scale, style layer weights).

    With the paper's fixed weights the five style layers' losses differ by 10^5 in size (relu4_1
    drowns relu1_1 and relu5_1); dividing each by its value for all-zero features makes every
    layer count equally, and makes strength mean the same on every image.
    """
    empty = float(losses.content_loss(torch.zeros_like(content_features), content_features))
    content_scale = 1.0 / max(empty, 1e-12)     # a flat content can have next to no features
    weights = {}
    for name, target in grams.items():
        empty = float(losses.layer_style_loss_of_grams(torch.zeros_like(target), target))
        weights[name] = STYLE_LAYER_WEIGHTS[name] / max(empty, 1e-12)
    return content_scale, weights


def _optimizer(name, x, gamma):
    if name == "adam":
        return torch.optim.Adam([x], lr=0.02)
    return LBFGS(x, gamma)


def stylize(model: VGG19Features, runtime: Runtime, content: torch.Tensor, styles: List[Tuple[torch.Tensor, float]],
            settings: Dict[str, Any], should_stop: Callable[[], bool] = lambda: False,
            max_pixels: Optional[int] = None, previous: Optional[Working] = None) -> Iterator[Progress]:
    """Yield Progress for every step; the last one has done=True and the result at the content's size.

    model: a VGG19Features covering ALL_LAYERS.  content: 1x3xHxW RGB in 0-1.
    styles: [(1x3xHxW RGB, weight)].  settings: a dict checked by settings.check_settings.
    should_stop: polled between steps and between the VGG's layers, forward and backward, so that a
        cancel takes effect within one layer's time; when it says True the loop returns without a result.
    max_pixels: the most pixels the finest scale may have (memory); the first Progress says if it bit.
    previous: an earlier run of this content's thread with the same styles (warm.Memory.recall); when
        its working size is this run's, the run starts warm from its result: a short run (starts.py).
    """
    try:
        yield from _stylize(model, runtime, content, styles, settings, should_stop, max_pixels, previous)
    except _Stopped:
        return


def _stylize(model, runtime, content, styles, settings, should_stop, max_pixels, previous):
    def check():
        if should_stop():
            raise _Stopped

    settings = check_settings(settings)
    if not styles:
        raise InputError("no style image given")
    weights = _style_weights(styles)
    start = time.perf_counter()
    style_images = [s for s, _ in styles]
    if settings["preserve_colors"] == "histogram":
        style_images = [color.match_histogram(s, content) for s in style_images]
    elif settings["preserve_colors"] == "luminance":
        style_images = [color.match_luminance(s, content) for s in style_images]
    scales, note = plan(content.shape[-2:], [s.shape[-2:] for s in style_images], settings, max_pixels)
    beta = style_weight(settings["strength"])
    previous_beta = style_weight(previous.settings["strength"]) if previous and previous.settings else beta
    scales, warm_start = warm_start_of(previous, scales, content, beta, settings, previous_beta)
    total = sum(s.steps for s in scales)
    tv_weight = TV_SCALE * settings["smoothness"]
    generator = torch.Generator().manual_seed(settings["seed"])
    torch.manual_seed(settings["seed"])
    model = model.to(runtime.device)
    step, x, gamma, last_preview = 0, None, warm_start.gamma if warm_start else None, time.perf_counter()
    values: Dict[str, float] = {}
    # Colour-preserving modes recolour the styles from the content: only plain styles' targets are kept.
    known = (previous.grams or {}) if previous is not None and settings["preserve_colors"] == "none" else {}
    used: Dict[Any, Dict[str, torch.Tensor]] = {}
    for index, scale in enumerate(scales):
        stage = "%dx%d" % (scale.width, scale.height)
        scaled_content = images.resize(content, scale.height, scale.width)
        content_features = content_target(model, runtime, scaled_content, check)
        target = (tuple(scale.style_sizes), model.pooling)
        grams = style_targets(model, runtime, style_images, weights, scale.style_sizes, check, known.get(target))
        used[target] = {name: g.detach().cpu() for name, g in grams.items()}
        content_scale, layer_weights = _balance(content_features, grams)
        start_image = start_of(scale, x, warm_start, scaled_content, settings, generator)
        if x is not None:
            # L-BFGS's first step here is sized from the coarser scale's curvature: measured, the inverse
            # curvature grows about 2x per halving, as the square root of the pixel count.
            gamma = gamma and gamma * ((scale.height * scale.width) / (x.shape[-2] * x.shape[-1])) ** 0.5
        # The optimised pixels stay contiguous (flat for L-BFGS); the VGG gets a channels_last view.
        x = start_image.to(runtime.device).contiguous().requires_grad_(True)
        optimizer = _optimizer(settings["optimizer"], x, gamma)
        only = moving(scale, warm_start)   # after a stroke, a warm run moves only around it
        only = only if only is None else only.to(runtime.device)

        term_weights = (content_scale, layer_weights, beta, tv_weight)

        def closure():
            check()
            x.grad = None
            loss, terms = objective(model, runtime, x, content_features, grams, term_weights, check)
            check()
            loss.backward()
            if only is not None:
                x.grad.mul_(only)
            values.update((name, term.item()) for name, term in terms.items())
            return loss

        history: List[float] = []
        for i in range(scale.steps):
            if should_stop():
                return
            optimizer.step(closure)
            if settings["optimizer"] == "adam":
                with torch.no_grad():
                    x.clamp_(0, 1)
            step += 1
            history.append(values["total"])
            # A warm run is short and its loss is mostly the unchanged image's: no plateau stop.
            last_of_scale = i == scale.steps - 1 or (not warm_start and _plateaued(history))
            preview = None
            now = time.perf_counter()
            if step % settings["preview_every"] == 0 or last_of_scale or now - last_preview >= PREVIEW_SECONDS:
                preview, last_preview = _finish(x, content, settings), now
            yield Progress(step, total, stage, dict(values), preview, seconds=now - start, note=note,
                           warm=warm_start is not None)
            note = ""
            if last_of_scale:
                step = sum(s.steps for s in scales[:index + 1])
                break
        gamma = getattr(optimizer, "gamma", None)
    assert x is not None, "plan() gives at least one scale"
    working = x.detach().float().cpu().clamp(0, 1)
    result = upscale(working, content, settings["detail"])
    if settings["preserve_colors"] == "luminance":
        result = color.luminance_transfer(result, content)
    yield Progress(total, total, "done", dict(values), result.clamp(0, 1), done=True,
                   seconds=time.perf_counter() - start, warm=warm_start is not None,
                   working=Working(images.resize(content, *working.shape[-2:]), working, gamma and gamma * (1 + beta),
                                   global_settings(settings), used))


def objective(model, runtime, x, content_features, grams, weights, check=None):
    """(total loss, {term: value}) of image x; weights: (content scale, style layer weights, beta, TV weight)."""
    content_scale, layer_weights, beta, tv_weight = weights
    with runtime.autocast():
        features = model(runtime.prepare(x), ALL_LAYERS, check)
    c = content_scale * losses.content_loss(features[CONTENT_LAYER], content_features)
    each = (lambda f: _checked(f, check)) if check else (lambda f: f)
    s = losses.style_loss(features, grams, layer_weights, each=each)
    t = losses.tv_loss(x)
    loss = c + beta * s + tv_weight * t
    return loss, {"content": c, "style": s, "tv": t, "total": loss}


def content_target(model, runtime, scaled_content, check):
    """The content's features at one scale."""
    with torch.no_grad(), runtime.autocast():
        return model(runtime.prepare(scaled_content), [CONTENT_LAYER], check)[CONTENT_LAYER]


def style_targets(model, runtime, style_images, weights, style_sizes, check, known=None):
    """The styles' blended Gram matrices at one scale's style sizes (`known`: the same, kept from an earlier run)."""
    if known is not None:
        return {name: g.to(runtime.device) for name, g in known.items()}
    grams = {name: 0.0 for name in STYLE_LAYERS}
    with torch.no_grad(), runtime.autocast():
        for image, w, (sh, sw) in zip(style_images, weights, style_sizes):
            features = model(runtime.prepare(images.resize(image, sh, sw)), STYLE_LAYERS, check)
            for name in STYLE_LAYERS:
                check()
                grams[name] = grams[name] + (w / sum(weights)) * losses.gram(features[name])
    check()
    return grams


def _checked(tensor, check):
    """The tensor through an identity view whose backward calls check(): a cancel point between loss terms.

    Made just before the term that uses it, so autograd (latest-made node first) runs it between
    that term's backward and the next one's.
    """
    view = tensor.view_as(tensor)
    view.register_hook(lambda grad: check())  # returns None: the gradient is unchanged
    return view


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
