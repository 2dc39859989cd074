"""Gatys et al. style transfer: the pixels of the target image optimised against a frozen VGG19.

`stylize` is the one optimisation loop.  It yields `Progress` after every step (with a preview
image every few steps) and a last `Progress` with `done=True` holding the full-size result, so
the server, the CLI and the tests all drive it the same way.
"""

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import torch

from krita_nst.settings import check_settings

from . import color, images, losses
from .device import Runtime
from .model import VGG19Features

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_LAYER_WEIGHTS = {name: 1.0 / len(STYLE_LAYERS) for name in STYLE_LAYERS}
ALL_LAYERS = (CONTENT_LAYER,) + STYLE_LAYERS

MIN_SIDE = 16          # below this VGG's five poolings leave nothing to compare
COARSEST = 96          # the pyramid halves the size while the coarsest long side stays at least this
TV_SCALE = 0.2         # smoothness 1.0 means this TV weight (TV is a mean of squares in 0-1 units)
PLATEAU_WINDOW = 20    # a scale ends early when the loss fell less than PLATEAU_TOL over this many steps
PLATEAU_TOL = 2e-3


class InputError(ValueError):
    """Input that cannot be stylised, with a message a person understands."""


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


@dataclass
class Scale:
    height: int
    width: int
    steps: int
    style_sizes: List[Tuple[int, int]] = field(default_factory=list)


def plan(content_hw, style_hws, settings, max_pixels=None):
    """The pyramid: a size and a step budget per scale, coarse to fine, and the style sizes at each.

    max_pixels caps the finest scale (what fits in memory); returns (scales, note).
    """
    h, w = content_hw
    if min(h, w) < MIN_SIDE:
        raise InputError("the content is too small to stylise: %dx%d px; each side needs at least %d px"
                         % (w, h, MIN_SIDE))
    top_h, top_w = images.fit(h, w, settings["size"])
    note = ""
    if max_pixels and top_h * top_w > max_pixels:
        longest = int(max(top_h, top_w) * math.sqrt(max_pixels / (top_h * top_w)))
        top_h, top_w = images.fit(h, w, longest)
        note = ("size lowered from %d to %d px to fit in this device's free memory"
                % (settings["size"], max(top_h, top_w)))
    if min(top_h, top_w) < MIN_SIDE:
        raise InputError("the content is too thin to stylise: %dx%d px becomes %dx%d at size %d; "
                         "each side needs at least %d px there" % (w, h, top_w, top_h, settings["size"], MIN_SIDE))
    levels = [(top_h, top_w)]
    wanted = settings["scales"] or 99
    while len(levels) < wanted and (settings["scales"] or max(levels[0]) / 2 >= COARSEST) \
            and min(levels[0]) / 2 >= MIN_SIDE * 4:
        lh, lw = levels[0]
        levels.insert(0, (round(lh / 2), round(lw / 2)))
    # Coarse scales are 4x cheaper per step each: give them most of the steps.
    shares = [2 ** (len(levels) - 1 - i) for i in range(len(levels))]
    total = settings["steps"]
    budget = [max(1, math.floor(total * s / sum(shares))) for s in shares]
    budget[-1] = max(1, total - sum(budget[:-1]))
    scales = []
    for (lh, lw), steps in zip(levels, budget):
        style_sizes = [style_size(hw, (lh, lw), settings["style_scale"]) for hw in style_hws]
        scales.append(Scale(lh, lw, steps, style_sizes))
    return scales, note


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


def style_size(style_hw, content_hw, style_scale):
    """The size the style is seen at: as many pixels as the content, times style_scale squared.

    Matching pixel counts, not longest sides, keeps the brush strokes the same size against the
    content whatever the two aspect ratios are.  Bigger style_scale: bigger strokes.
    """
    sh, sw = style_hw
    ratio = style_scale * math.sqrt(content_hw[0] * content_hw[1] / (sh * sw))
    h, w = max(1, round(sh * ratio)), max(1, round(sw * ratio))
    if min(h, w) < MIN_SIDE:
        h, w = images.fit(sh, sw, round(MIN_SIDE * max(sh, sw) / min(sh, sw)))
    return h, w


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


def _initial(content, init, generator):
    noise = torch.rand(content.shape, generator=generator).to(content)
    if init == "noise":
        return noise
    if init == "blend":
        return 0.6 * content + 0.4 * noise
    return content.clone()


def _optimizer(name, x):
    if name == "adam":
        return torch.optim.Adam([x], lr=0.02)
    return torch.optim.LBFGS([x], lr=1.0, max_iter=1, history_size=50,
                             tolerance_grad=-1.0, tolerance_change=-1.0)


def stylize(model: VGG19Features, runtime: Runtime, content: torch.Tensor, styles: List[Tuple[torch.Tensor, float]],
            settings: Dict[str, Any], should_stop: Callable[[], bool] = lambda: False,
            max_pixels: Optional[int] = None) -> Iterator[Progress]:
    """Yield Progress for every step; the last one has done=True and the result at the content's size.

    model: a VGG19Features covering ALL_LAYERS.  content: 1x3xHxW RGB in 0-1.
    styles: [(1x3xHxW RGB, weight)].  settings: a dict checked by settings.check_settings.
    should_stop: polled between steps and between the VGG's layers, forward and backward, so that a
        cancel takes effect within one layer's time; when it says True the loop returns without a result.
    max_pixels: the most pixels the finest scale may have (memory); the first Progress says if it bit.
    """
    try:
        yield from _stylize(model, runtime, content, styles, settings, should_stop, max_pixels)
    except _Stopped:
        return


def _stylize(model, runtime, content, styles, settings, should_stop, max_pixels):
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
    total = sum(s.steps for s in scales)
    beta = style_weight(settings["strength"])
    tv_weight = TV_SCALE * settings["smoothness"]
    generator = torch.Generator().manual_seed(settings["seed"])
    torch.manual_seed(settings["seed"])
    model = model.to(runtime.device)
    step, x = 0, None
    for index, scale in enumerate(scales):
        stage = "%dx%d" % (scale.width, scale.height)
        scaled_content = images.resize(content, scale.height, scale.width)
        target = runtime.prepare(scaled_content)
        with torch.no_grad(), runtime.autocast():
            content_features = model(target, [CONTENT_LAYER], check)[CONTENT_LAYER].detach()
            grams = {name: 0.0 for name in STYLE_LAYERS}
            for image, w, (sh, sw) in zip(style_images, weights, scale.style_sizes):
                features = model(runtime.prepare(images.resize(image, sh, sw)), STYLE_LAYERS, check)
                for name in STYLE_LAYERS:
                    check()
                    grams[name] = grams[name] + (w / sum(weights)) * losses.gram(features[name])
        check()
        content_scale, layer_weights = _balance(content_features, grams)
        if x is None:
            start_image = _initial(target, settings["init"], generator)
        else:
            start_image = _upscale(x.detach().float().cpu(), scaled_content)
        # The optimised pixels stay contiguous (L-BFGS flattens them); the VGG gets a channels_last view.
        x = start_image.to(runtime.device).contiguous().requires_grad_(True)
        optimizer = _optimizer(settings["optimizer"], x)
        values: Dict[str, float] = {}

        def closure():
            check()
            optimizer.zero_grad(set_to_none=True)
            with runtime.autocast():
                features = model(runtime.prepare(x), ALL_LAYERS, check)
            c = content_scale * losses.content_loss(features[CONTENT_LAYER], content_features)
            s = losses.style_loss(features, grams, layer_weights, each=lambda f: _checked(f, check))
            t = losses.tv_loss(x)
            loss = c + beta * s + tv_weight * t
            check()
            loss.backward()
            values.update(content=c.item(), style=s.item(), tv=t.item(), total=loss.item())
            return loss

        history = []
        for i in range(scale.steps):
            if should_stop():
                return
            optimizer.step(closure)
            if settings["optimizer"] == "adam":
                with torch.no_grad():
                    x.clamp_(0, 1)
            step += 1
            history.append(values["total"])
            last_of_scale = i == scale.steps - 1 or _plateaued(history)
            preview = None
            if step % settings["preview_every"] == 0 or last_of_scale:
                preview = _finish(x, content, settings)
            yield Progress(step, total, stage, dict(values), preview, seconds=time.perf_counter() - start, note=note)
            note = ""
            if last_of_scale:
                step = sum(s.steps for s in scales[:index + 1])
                break
    assert x is not None, "plan() gives at least one scale"
    result = images.resize(x.detach().float().cpu(), content.shape[-2], content.shape[-1])
    if settings["preserve_colors"] == "luminance":
        result = color.luminance_transfer(result, content)
    yield Progress(total, total, "done", dict(values), result.clamp(0, 1), done=True,
                   seconds=time.perf_counter() - start)


def _checked(tensor, check):
    """The tensor through an identity view whose backward calls check(): a cancel point between loss terms.

    Made just before the term that uses it, so autograd (latest-made node first) runs it between
    that term's backward and the next one's.
    """
    view = tensor.view_as(tensor)
    view.register_hook(lambda grad: check())  # returns None: the gradient is unchanged
    return view


def _upscale(coarse, content):
    """The coarse result at the next scale, with the content's detail that the coarse scale could not hold.

    Adding the content's high frequencies (its difference from a down-and-up-sampled copy) means
    the fine scale starts sharp and spends its few expensive steps on texture, not on edges.
    """
    h, w = content.shape[-2:]
    ch, cw = coarse.shape[-2:]
    detail = content - images.resize(images.resize(content, ch, cw), h, w)
    return (images.resize(coarse, h, w) + detail).clamp(0, 1)


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
