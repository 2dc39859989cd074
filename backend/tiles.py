"""The full-resolution passes' objective in tiles: whole-image Gram matrices, memory bounded by the tile.

Above the working size the VGG runs only up to relu3_1 (FINE_LAYERS): the composition and the big
strokes are the working size's, kept by an anchor (fine.py); these layers hold the style's fine
texture, and their receptive field is small (10 px each side), so a tile needs only HALO pixels of
context for its core's features to be exactly the whole image's.

One evaluation is two passes over the tiles:
1. no gradient: each tile's core features add to the whole image's Gram sums;
2. with gradient: each tile again, its core features times dL/dG (known after pass 1) as a
   surrogate loss whose gradient is exactly the true one for those features; backward, and the
   tile's input gradient adds into the image's.
Cores partition the image, so the loss and the gradient are the untiled ones (tests/test_tiles.py).
Every window has the same shape (the last one in a row or column moves inward), so a job makes
one or two convolution shapes, not one per tile: the per-shape caches stay small.
"""

import math
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import torch

from . import losses

FINE_LAYERS = ("relu1_1", "relu2_1", "relu3_1")
FINE_LAYER_WEIGHTS = {name: 1.0 / len(FINE_LAYERS) for name in FINE_LAYERS}
HALO = 16        # input pixels of context each side: more than relu3_1's reach (10 px)
ALIGN = 4        # relu3_1 is two poolings down: windows start on multiples of 4 to share its grid


@dataclass(frozen=True)
class Tile:
    window: Tuple[int, int, int, int]   # top, left, bottom, right of the input the VGG sees
    core: Tuple[int, int, int, int]     # the part whose features this tile owns (the cores partition)


def _axis(length, window):
    """[(window start, window end, core start, core end)] along one axis: as few windows as fit, cores even."""
    if length <= window:
        return [(0, length, 0, length)]
    count = -(-length // ((window - 2 * HALO) // ALIGN * ALIGN))
    core = math.ceil(math.ceil(length / count) / ALIGN) * ALIGN
    window = core + 2 * HALO
    if window >= length:
        return [(0, length, 0, length)]
    window += (length - window) % ALIGN       # the last window then ends exactly at the edge
    spans = []
    for start in range(0, length, core):
        end = min(start + core, length)
        w0 = min(max(0, start - HALO), length - window)
        spans.append((w0, w0 + window, start, end))
    return spans


def grid(height, width, window):
    """The tiles of a height x width image for windows of at most about window x window pixels."""
    window = max(window, 2 * HALO + 4 * ALIGN) // ALIGN * ALIGN
    return [Tile((r0, c0, r1, c1), (cr0, cc0, cr1, cc1))
            for r0, r1, cr0, cr1 in _axis(height, window) for c0, c1, cc0, cc1 in _axis(width, window)]


def window_for(pixel_budget, height, width):
    """The window side that fits pixel_budget (None: no limit, the whole image in one tile)."""
    if pixel_budget is None or pixel_budget >= height * width:
        return max(height, width)
    return int(pixel_budget ** 0.5)


def _core(feature, tile, factor):
    """The tile's core part of a feature map made from its window (factor: the layer's downsampling).

    Windows start on multiples of ALIGN and cores end on them except at the image's edge, where
    the floor matches the whole image's pooled size.
    """
    r0, c0, _, _ = tile.window
    cr0, cc0, cr1, cc1 = tile.core
    return feature[..., cr0 // factor - r0 // factor: cr1 // factor - r0 // factor,
                   cc0 // factor - c0 // factor: cc1 // factor - c0 // factor]


FACTORS = {"relu1_1": 1, "relu2_1": 2, "relu3_1": 4}


def _window(image, tile):
    r0, c0, r1, c1 = tile.window
    return image[..., r0:r1, c0:c1]


def _gram_sums(features, tile):
    """{layer: (sum over the core of f f^T, positions)} in fp32."""
    sums = {}
    for name in FINE_LAYERS:
        core = _core(features[name], tile, FACTORS[name])
        n, c, h, w = core.shape
        f = core.permute(0, 2, 3, 1).reshape(n, h * w, c).float()
        sums[name] = (torch.bmm(f.transpose(1, 2), f), h * w)
    return sums


def grams(model, runtime, image, tiles, pooling, check):
    """The image's Gram matrices at FINE_LAYERS (as losses.gram gives them), computed tile by tile."""
    totals: Dict[str, torch.Tensor] = {}
    counts = dict.fromkeys(FINE_LAYERS, 0)
    with torch.no_grad():
        for tile in tiles:
            with runtime.autocast():
                features = model(runtime.prepare(_window(image, tile)), FINE_LAYERS, pooling, check)
            for name, (s, m) in _gram_sums(features, tile).items():
                totals[name] = totals[name] + s if name in totals else s
                counts[name] += m
            del features
    return {name: totals[name] / counts[name] for name in FINE_LAYERS}


def style_loss_of_grams(current, targets, layer_weights):
    return sum(layer_weights[n] * losses.layer_style_loss_of_grams(current[n], targets[n]) for n in FINE_LAYERS)


def style_value_and_grad(model, runtime, x, targets, layer_weights, tiles, pooling,
                         check: Callable[[], None]) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """The style loss of x at FINE_LAYERS (whole-image Grams), with its gradient added into x.grad."""
    detached = x.detach()
    current = grams(model, runtime, detached, tiles, pooling, check)
    loss = style_loss_of_grams(current, targets, layer_weights)
    # dL/dG per layer: what each position's f f^T / M contributes, so each tile's surrogate is exact.
    slopes = {}
    for name in FINE_LAYERS:
        c = current[name].shape[-1]
        slopes[name] = (2.0 * layer_weights[name] / (4.0 * c ** 2)) * (current[name] - targets[name])
    grad = torch.zeros_like(detached)
    counts = _positions(x.shape[-2:])
    for tile in tiles:
        check()
        window = _window(detached, tile).clone().requires_grad_(True)
        with runtime.autocast():
            features = model(runtime.prepare(window), FINE_LAYERS, pooling, check)
        terms = []
        for name in FINE_LAYERS:
            core = _core(features[name], tile, FACTORS[name])
            n, c, h, w = core.shape
            f = core.permute(0, 2, 3, 1).reshape(n, h * w, c).float()
            terms.append((torch.bmm(f, slopes[name]) * f).sum() / counts[name])
        surrogate = torch.stack(terms).sum()
        surrogate.backward()
        r0, c0, r1, c1 = tile.window
        grad[..., r0:r1, c0:c1] += window.grad
        del features, surrogate, window
    x.grad = grad if x.grad is None else x.grad + grad
    return loss, current


def _positions(hw):
    """Feature positions per layer over the whole image (what the Gram matrices divide by)."""
    h, w = hw
    return {name: (h // FACTORS[name]) * (w // FACTORS[name]) for name in FINE_LAYERS}


def untiled_style_value_and_grad(model, runtime, x, targets, layer_weights, pooling, check=None):
    """The same loss and gradient in one VGG pass over the whole image (the reference the tiles must equal)."""
    with runtime.autocast():
        features = model(runtime.prepare(x), FINE_LAYERS, pooling, check)
    current = {n: losses.gram(features[n]) for n in FINE_LAYERS}
    loss = style_loss_of_grams(current, targets, layer_weights)
    loss.backward()
    return loss.detach(), {n: g.detach() for n, g in current.items()}


def balanced_weights(targets: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """Each layer's weight divided by its loss for all-zero features: every layer counts the same (losses.balance)."""
    return {name: FINE_LAYER_WEIGHTS[name]
            / max(float(losses.layer_style_loss_of_grams(torch.zeros_like(t), t)), 1e-12)
            for name, t in targets.items()}
