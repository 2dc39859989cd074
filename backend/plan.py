"""The pyramid of one job: a size and a step budget per scale, coarse to fine (pure functions)."""

import math
from dataclasses import dataclass, field
from typing import List, Tuple

from krita_nst.core.sizes import FULL_STEPS, fit, passes, style_seen, working_size

from .errors import InputError

MIN_SIDE = 16          # below this VGG's five poolings leave nothing to compare
COARSEST = 96          # the pyramid halves the size while the coarsest long side stays at least this
# Steps per scale, coarse to fine, as shares of the total.  Three scales were 4:2:1 (15 steps at the
# finest); 2:1:1 gives it 25, better on both distances on every pair for +20 % time (docs/benchmark.md).
SHARES = {1: (1,), 2: (2, 1), 3: (2, 1, 1)}


@dataclass
class Scale:
    height: int
    width: int
    steps: int
    style_sizes: List[Tuple[int, int]] = field(default_factory=list)
    full: bool = False     # a full-resolution pass above the working size (fine.py), not a working scale


def top_size(content_hw, settings, max_pixels=None):
    """The finest scale's (h, w) and a note: never above the layer's own size, capped by max_pixels."""
    h, w = content_hw
    if min(h, w) < MIN_SIDE:
        raise InputError("the content is too small to stylise: %dx%d px; each side needs at least %d px"
                         % (w, h, MIN_SIDE))
    # A small layer is worked at its own size: blowing it up costs time and adds nothing to the result.
    top_w, top_h = working_size(w, h, settings["size"])
    note = ""
    if max_pixels and top_h * top_w > max_pixels:
        longest = int(max(top_h, top_w) * math.sqrt(max_pixels / (top_h * top_w)))
        top_w, top_h = fit(w, h, longest)
        note = ("size lowered from %d to %d px to fit in this device's free memory"
                % (settings["size"], max(top_h, top_w)))
    if min(top_h, top_w) < MIN_SIDE:
        raise InputError("the content is too thin to stylise: %dx%d px becomes %dx%d at size %d; "
                         "each side needs at least %d px there" % (w, h, top_w, top_h, settings["size"], MIN_SIDE))
    return (top_h, top_w), note


def budget(total, count):
    """Steps per scale for `count` scales: coarse scales are 4x cheaper per step each, so they get more."""
    shares = SHARES.get(count) or tuple(2 ** (count - 1 - i) for i in range(count))
    steps = [max(1, math.floor(total * s / sum(shares))) for s in shares]
    steps[-1] = max(1, total - sum(steps[:-1]))
    return steps


def plan(content_hw, style_hws, settings, max_pixels=None):
    """The scales, coarse to fine, with the style sizes at each; returns (scales, note).

    max_pixels caps the finest scale (what fits in memory).
    """
    (top_h, top_w), note = top_size(content_hw, settings, max_pixels)
    sizes = [(top_h, top_w)]
    wanted = settings["scales"] or 99
    while len(sizes) < wanted and (settings["scales"] or max(sizes[0]) / 2 >= COARSEST) \
            and min(sizes[0]) / 2 >= MIN_SIDE * 4:
        lh, lw = sizes[0]
        sizes.insert(0, (round(lh / 2), round(lw / 2)))
    scales = []
    for (lh, lw), steps in zip(sizes, budget(settings["steps"], len(sizes))):
        scales.append(Scale(lh, lw, steps, [style_size(hw, (lh, lw), settings["style_scale"]) for hw in style_hws]))
    return scales, note


def style_size(style_hw, content_hw, style_scale):
    """The (h, w) the style is seen at (core.sizes.style_seen), at least MIN_SIDE a side."""
    sh, sw = style_hw
    w, h = style_seen((sw, sh), (content_hw[1], content_hw[0]), style_scale)
    if min(h, w) < MIN_SIDE:
        w, h = fit(sw, sh, round(MIN_SIDE * max(sh, sw) / min(sh, sw)))
    return h, w


def full_passes(top_hw, content_hw, style_hws, settings):
    """The full-resolution passes above the working size (none for resolution=working), coarse to fine."""
    if settings["resolution"] == "working":
        return []
    sizes = passes((top_hw[1], top_hw[0]), (content_hw[1], content_hw[0]))
    return [Scale(h, w, FULL_STEPS, [style_size(hw, (h, w), settings["style_scale"]) for hw in style_hws], full=True)
            for w, h in sizes]
