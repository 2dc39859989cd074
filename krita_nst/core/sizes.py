"""The size rules, once: the working size, the full-resolution passes and the size a style is seen at.

The plugin (estimate, live mode, the style-resolution note) and the backend's plan use them.
"""

import math
from typing import List, Tuple


def fit(width: int, height: int, longest: int) -> Tuple[int, int]:
    """(width, height) with the same aspect ratio and the longest side `longest` (each side at least 1)."""
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def working_size(width: int, height: int, size: int) -> Tuple[int, int]:
    """(width, height) the work is done at: the longest side at `size`, never above the layer's own."""
    return fit(width, height, min(size, max(width, height)))


FULL_STEPS = 10     # L-BFGS steps per full-resolution pass (docs/sharpness.md)
# One full-resolution step (two tiled VGG passes up to relu3_1) against one working step (one pass up
# to relu5_1), per pixel: a prior from single-step profiles on this project's CPU (0.6-0.8), used only
# until a run has measured its own full-resolution steps (backend/progress.py).
FULL_COST = 0.6
# resolution=auto goes on to full resolution on a CPU when the passes should take at most this; the
# plugin's estimate and the backend (from the run's own measured speed) use the same rule.
AUTO_FULL_SECONDS = 180


def passes(working: Tuple[int, int], layer: Tuple[int, int]) -> List[Tuple[int, int]]:
    """(width, height) of each full-resolution pass above the working size: doubling, the last the layer's own.

    A doubling that would (nearly) reach the layer is the layer's size itself: no pass is wasted on a
    size only a little below it.
    """
    (w, h), (lw, lh) = working, layer
    out: List[Tuple[int, int]] = []
    while max(lw / w, lh / h) > 1.01:
        w, h = (lw, lh) if max(lw / (2 * w), lh / (2 * h)) <= 1.3 else (2 * w, 2 * h)
        out.append((w, h))
    return out


def full_work(working: Tuple[int, int], layer: Tuple[int, int]) -> float:
    """The full-resolution passes' work in working pixel-steps (a working run's is width x height x steps)."""
    return sum(FULL_COST * FULL_STEPS * w * h for w, h in passes(working, layer))


def style_seen(style: Tuple[int, int], canvas: Tuple[int, int], style_scale: float) -> Tuple[int, int]:
    """(width, height) a style image is seen at beside a canvas: as many pixels as it, times style_scale squared.

    Matching pixel counts, not longest sides, keeps the brush strokes the same size against the
    canvas whatever the two aspect ratios are.  Bigger style_scale: bigger strokes.
    """
    (sw, sh), (cw, ch) = style, canvas
    ratio = style_scale * math.sqrt(cw * ch / (sw * sh))
    return max(1, round(sw * ratio)), max(1, round(sh * ratio))


STYLE_UPSCALE_LIMIT = 2.0   # beyond this the style's finest strokes are blurred pixels at 100 %


def style_resolution_note(style_name: str, style: Tuple[int, int], layer: Tuple[int, int],
                          style_scale: float) -> str:
    """What an artist should know before a full-resolution run whose style must be scaled up a lot ('' if not)."""
    seen = style_seen(style, layer, style_scale)
    factor = seen[0] / style[0]
    if factor <= STYLE_UPSCALE_LIMIT:
        return ""
    return ("the style %s is %d px: at 100 %% it is scaled up %.1fx, so its strokes will be soft; use a larger "
            "image of it or a smaller style scale (at most %.2f here)"
            % (style_name, max(style), factor, math.floor(100 * style_scale * STYLE_UPSCALE_LIMIT / factor) / 100))
