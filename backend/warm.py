"""Warm re-runs: what the last finished run of each content thread left, and where a new run starts from.

A job may carry a `key` (the plugin sends "document-uuid/layer-uuid"): its thread of runs.  The
server remembers, per key, the last finished run's content and result at the working size, stored
as uint8 on the CPU, beside an identity of its styles.  A later run with the same key, the same
styles and the same working size starts from that result, with the content's changes carried in,
and needs only a short optimisation (starts.py).
"""

import hashlib
import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F

from .plan import InputError

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


@dataclass
class Working:
    """A finished run at its working (finest-scale) size: floats in 0-1 while in use, uint8 when stored."""
    content: torch.Tensor   # 1x3xHxW
    result: torch.Tensor    # 1x3xHxW
    gamma: Optional[float]  # L-BFGS's last inverse curvature there times (1 + style weight): sizes a warm first step
    settings: Optional[dict] = None   # its GLOBAL_SETTINGS
    # The styles' Gram matrices it used, per (style sizes, pooling), on the CPU: the same styles give
    # the same targets, so a warm run of the thread skips the styles' VGG passes (engine.style_targets).
    grams: Optional[dict] = None


@dataclass
class Start:
    """Where a warm run starts: `image` at the finest scale, `mask` 1 where the content changed (softly),
    or None when a setting changed and the whole image has work to do; `around`, the wider region
    the finest scale moves after a coarser one (None: all of it)."""
    image: torch.Tensor
    gamma: Optional[float]
    mask: Optional[torch.Tensor]
    around: Optional[torch.Tensor] = None


def global_settings(settings):
    """The GLOBAL_SETTINGS of a checked settings dict: what a Working remembers and a warm run compares."""
    return {name: settings[name] for name in GLOBAL_SETTINGS}


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


def _to_float(image):
    return image.float().div(255.0)


class Memory:
    """Per key: (styles identity, Working stored as uint8); the least recently used key goes first."""

    def __init__(self, keys: int = KEYS):
        self.keys = keys
        self._runs: "OrderedDict[str, tuple]" = OrderedDict()

    def recall(self, key, styles_id) -> Optional[Working]:
        """The remembered run of `key` when its styles match, else None (the engine checks the size)."""
        entry = self._runs.get(key) if key else None
        if entry is None or entry[0] != styles_id:
            return None
        self._runs.move_to_end(key)
        _, content, result, gamma, settings, grams = entry
        return Working(_to_float(content), _to_float(result), gamma, settings, grams)

    def remember(self, key, styles_id, working: Working):
        if not key:
            return
        self._runs[key] = (styles_id, _to_u8(working.content), _to_u8(working.result), working.gamma, working.settings,
                           working.grams)
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


def changed_mask(old, new, grow, soften):
    """1 where the content changed, grown and faded out as `grown` does (1x1xHxW)."""
    return grown(changed(old, new), grow, soften)


def rebalanced(previous: Working, beta, previous_beta) -> Working:
    """The previous run as if moved to style weight beta: its result's difference from its content scaled."""
    if previous_beta <= 0:   # the result was the content: nothing to scale
        return previous
    scale = (beta / previous_beta) ** REBALANCE
    result = (previous.content + scale * (previous.result - previous.content)).clamp(0, 1)
    return Working(previous.content, result, previous.gamma, previous.settings, previous.grams)


def start_image(previous: Working, content, mask):
    """The previous result with the content's changes carried in, blended in by `mask` (soft, 1 where it changed).

    Where the content changed the start is the previous result shifted by the content's change (so
    the new paint shows, with the old stylisation's texture over it); elsewhere it is the previous result.
    Starting from the new content there instead was measured worse on both distances.
    """
    return (previous.result + mask * (content - previous.content)).clamp(0, 1)
