"""Warm re-runs: the memory of each content thread's last run, and how a new run starts from it.

A job may carry a `key` (the plugin sends "document-uuid/layer-uuid"): its thread of runs.  The
server remembers, per key, the last finished run's content and result at the working size, stored
as uint8 on the CPU, beside an identity of its styles.  A later run with the same key, the same
styles and the same working size starts from that result, with the content's changes carried in,
and needs only a short optimisation.  `begin` is the engine's one question: the scales, the start
and the styles' Gram matrices already known.
"""

import hashlib
import struct
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Optional

import torch
import torch.nn.functional as F

from . import images
from .errors import InputError
from .losses import style_weight
from .plan import Scale

KEYS = 4               # threads remembered (LRU): each costs two uint8 images at the working size and
                       # the styles' Gram matrices (2.4 MB a scale)
MAX_KEY = 200          # characters
CHANGED = 4 / 255.0    # a pixel changed when a channel moved more than this (uint8 storage rounds by 0.5/255)
# A result's difference from its content grows about as the style weight to the power 0.02-0.1
# (measured on two pairs at strengths 35, 50, 65).  A warm run after a strength change starts from the
# previous result with that difference scaled so: nearer the cold run at the new strength on 7 of 8
# distances (chelsea, astronaut; 50 -> 35, 50 -> 65; docs/benchmark.md) than from the result itself.
REBALANCE = 0.1
# Settings that change the objective everywhere: after a change of one of them, the whole image has work to do.
GLOBAL_SETTINGS = ("strength", "style_scale", "preserve_colors", "pooling", "smoothness")
# A warm run: WARM_HALF steps at half size, then WARM_FINE at the finest scale (~1/4 of a cold run's
# time at 512 px).  After a brush stroke the half-size steps move only the changed region (grown by
# 1/REPAINT of the longest side), and the finest scale starts there as a cold run's does and moves
# only that region grown AROUND times as far: the rest keeps the previous result, and L-BFGS's
# few steps go to the stroke.  After a change of a global setting both scales move everything, and
# so do they when nothing changed (the run refines the last result).
# Measured with benchmarks/iterate.py (docs/benchmark.md).
WARM_FINE = 6
WARM_HALF = 10
REPAINT = 42
AROUND = 3


def global_settings(settings):
    """The GLOBAL_SETTINGS of a checked settings dict: what a Working remembers and a warm run compares."""
    return {name: settings[name] for name in GLOBAL_SETTINGS}


@dataclass
class Working:
    """A finished run at its working (finest-scale) size: floats in 0-1 while in use, uint8 when stored."""
    content: torch.Tensor   # 1x3xHxW
    result: torch.Tensor    # 1x3xHxW
    gamma: Optional[float]  # packed: L-BFGS's last inverse curvature times (1 + style weight) (see `of_run`)
    settings: Optional[dict] = None   # its GLOBAL_SETTINGS
    # The styles' Gram matrices it used, per (style sizes, pooling), on the CPU: the same styles give
    # the same targets, so a warm run of the thread skips the styles' VGG passes (engine.style_targets).
    grams: Optional[dict] = None

    @classmethod
    def of_run(cls, content, result, gamma, beta, settings, grams):
        """A finished run: the content at the result's size, and the inverse curvature per unit of loss
        weight (the loss is content + beta style: its curvature grows as 1 + beta)."""
        return cls(images.resize(content, *result.shape[-2:]), result, gamma and gamma * (1 + beta),
                   global_settings(settings), grams)

    def gamma_at(self, beta):
        """The inverse curvature for a run at style weight beta."""
        return self.gamma and self.gamma / (1 + beta)


def styles_identity(styles):
    """A hash of the style images' bytes, layouts, sizes and weights: equal means the same styles."""
    digest = hashlib.sha256()
    for image, weight in styles:
        digest.update(struct.pack("<IId", image.width, image.height, float(weight)))
        digest.update(image.format.encode())
        digest.update(bytes(image.data))
    return digest.hexdigest()


def check_key(key):
    """The key if it is a usable one; raises InputError with a readable message otherwise (None: no key)."""
    if key is None:
        return None
    if not isinstance(key, str) or not key or len(key) > MAX_KEY:
        raise InputError("key must be a text of 1 to %d characters, not %.100r" % (MAX_KEY, key))
    return key


def _to_u8(image):
    return image.detach().float().cpu().clamp(0, 1).mul(255).round().to(torch.uint8)


class Memory:
    """Per key: (styles identity, Working stored as uint8); the least recently used key goes first."""

    def __init__(self, keys: int = KEYS):
        self.keys = keys
        self._runs: "OrderedDict[str, tuple]" = OrderedDict()

    def recall(self, key, styles_id) -> Optional[Working]:
        """The remembered run of `key` when its styles match, else None (`begin` checks the size)."""
        entry = self._runs.get(key) if key else None
        if entry is None or entry[0] != styles_id:
            return None
        self._runs.move_to_end(key)
        stored = entry[1]
        return replace(stored, content=stored.content.float().div(255.0), result=stored.result.float().div(255.0))

    def remember(self, key, styles_id, working: Working):
        if not key:
            return
        self._runs[key] = (styles_id, replace(working, content=_to_u8(working.content), result=_to_u8(working.result)))
        self._runs.move_to_end(key)
        while len(self._runs) > self.keys:
            self._runs.popitem(last=False)

    def __len__(self):
        return len(self._runs)


def changed(old, new):
    """1 where the content changed by more than CHANGED in any channel, else 0 (1x1xHxW)."""
    return ((new - old).abs().amax(1, keepdim=True) > CHANGED).float()


def _box(pool, mask, radius, **options):
    """pool over a (2 radius + 1)-square window, as a column pass then a row pass: the same values, and
    O(radius) a pixel instead of O(radius²) (a square 73 px max pool at 512x512 took 0.9 s on 2 cores)."""
    size = 2 * radius + 1
    mask = pool(mask, (size, 1), stride=1, padding=(radius, 0), **options)
    return pool(mask, (1, size), stride=1, padding=(0, radius), **options)


def grown(mask, grow, soften):
    """A 0/1 mask grown by `grow` px, then faded out over 2 x `soften` px more (1 within `grow`)."""
    if grow + soften:   # one max pool: a square grown by grow, then by soften, is one grown by both
        mask = _box(F.max_pool2d, mask, grow + soften)
    if soften:
        mask = _box(F.avg_pool2d, mask, soften, count_include_pad=False)
    return mask


def repaint_margin(height, width):
    """Pixels repainted around a change: VGG sees a neighbourhood (12 px at 512; 8 was measured worse on content)."""
    return max(2, round(max(height, width) / REPAINT))


def rebalanced(previous: Working, beta, previous_beta) -> Working:
    """The previous run as if moved to style weight beta: its result's difference from its content scaled."""
    if previous_beta <= 0:   # the result was the content: nothing to scale
        return previous
    scale = (beta / previous_beta) ** REBALANCE
    return replace(previous, result=(previous.content + scale * (previous.result - previous.content)).clamp(0, 1))


def start_image(previous: Working, content, mask):
    """The previous result with the content's changes carried in, blended in by `mask` (soft, 1 where it changed).

    Where the content changed the start is the previous result shifted by the content's change (so
    the new paint shows, with the old stylisation's texture over it); elsewhere it is the previous result.
    Starting from the new content there instead was measured worse on both distances.
    """
    return (previous.result + mask * (content - previous.content)).clamp(0, 1)


@dataclass
class Start:
    """Where a warm run starts: `image` at the finest scale, `mask` 1 where the content changed (softly),
    or None when a setting changed and the whole image has work to do; `around`, the wider region
    the finest scale moves after a coarser one (None: all of it)."""
    image: torch.Tensor
    gamma: Optional[float]
    mask: Optional[torch.Tensor]
    around: Optional[torch.Tensor] = None

    def moving(self, scale):
        """The pixels a scale may move (1x1xHxW, soft), or None for all of them."""
        if self.mask is None:
            return None
        if self.image.shape[-2:] == (scale.height, scale.width):
            return self.around
        return images.resize(self.mask, scale.height, scale.width).clamp(0, 1)

    def image_at(self, scale, coarse, scaled_content):
        """The image a scale starts from, after the coarser scale's result `coarse` (None: the first scale)."""
        previous = images.resize(self.image, scale.height, scale.width)
        if coarse is None:
            return previous
        if self.mask is None:
            # A setting changed: keep the previous result's detail; take from the coarse pass what it changed.
            change = images.resize(coarse - images.resize(self.image, *coarse.shape[-2:]), scale.height, scale.width)
            return (previous + change).clamp(0, 1)
        # Where the content changed, start as a cold run does (the coarse result with the content's detail):
        # the previous result's fine texture there was made for the old paint and shows through the new
        # (style distance +11-15 % of the cold run's after a stroke; this way within 2 %).
        mask = images.resize(self.mask, scale.height, scale.width)
        return (previous * (1 - mask) + mask * images.upscale(coarse, scaled_content)).clamp(0, 1)


def begin(previous: Optional[Working], scales, content, beta, settings):
    """(scales, Start or None, known Gram matrices) of a run at style weight beta after `previous`.

    The Start is None (a cold run, the planned scales) unless previous ran at this run's working size.
    """
    # Colour-preserving modes recolour the styles from the content: only plain styles' targets are kept.
    known = (previous.grams or {}) if previous is not None and settings["preserve_colors"] == "none" else {}
    top = scales[-1]
    if previous is None or tuple(previous.result.shape[-2:]) != (top.height, top.width):
        return scales, None, known
    previous_beta = style_weight(previous.settings["strength"]) if previous.settings else beta
    if previous_beta != beta:
        previous = rebalanced(previous, beta, previous_beta)
    scaled = images.resize(content, top.height, top.width)
    grow = repaint_margin(top.height, top.width)
    changes = changed(previous.content, scaled)
    mask: Optional[torch.Tensor] = grown(changes, grow, grow)
    image = start_image(previous, scaled, mask)
    if previous.settings != global_settings(settings) or not changes.any():
        # A new balance everywhere, not a local change; or nothing changed at all: the whole picture goes
        # on from where the last run stopped (a re-run refines it, not copies it).
        mask = None
    gamma = previous.gamma_at(beta)
    if not (WARM_HALF and len(scales) > 1):   # a small image: the half-size steps' time at the finest scale
        return [Scale(top.height, top.width, WARM_FINE + WARM_HALF // 4, top.style_sizes)], \
            Start(image, gamma, mask), known
    half = scales[-2]
    warm_scales = [Scale(half.height, half.width, WARM_HALF, half.style_sizes),
                   Scale(top.height, top.width, WARM_FINE, top.style_sizes)]
    gamma = gamma and gamma / 2   # the inverse curvature goes as the square root of the pixels
    around = None if mask is None else grown(changes, AROUND * grow, grow)
    return warm_scales, Start(image, gamma, mask, around), known
