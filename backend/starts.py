"""Where each scale of a run starts from: the content (or noise), the coarser scale's result, or a warm start."""

import torch

from . import images
from .plan import Scale
from .warm import Start, changed, global_settings, grown, rebalanced, start_image

# A warm run: WARM_HALF steps at half size, then WARM_FINE at the finest scale (~1/4 of a cold run's
# time at 512 px).  After a brush stroke the half-size steps move only the changed region (grown by
# 1/REPAINT of the longest side), and the finest scale starts there as a cold run's does and moves
# only that region grown AROUND times as far: the rest keeps the previous result, and L-BFGS's
# few steps go to the stroke.  After a change of a global setting (warm.GLOBAL_SETTINGS) both
# scales move everything, and so do they when nothing changed (the run refines the last result).
# Measured with benchmarks/iterate.py (docs/benchmark.md).
WARM_FINE = 6
WARM_HALF = 10
REPAINT = 42
AROUND = 3


def initial(content, init, generator):
    noise = torch.rand(content.shape, generator=generator).to(content)
    if init == "noise":
        return noise
    if init == "blend":
        return 0.6 * content + 0.4 * noise
    return content.clone()


def repaint_margin(height, width):
    """Pixels repainted around a change: VGG sees a neighbourhood (12 px at 512; 8 was measured worse on content)."""
    return max(2, round(max(height, width) / REPAINT))


def warm_start_of(previous, scales, content, beta, settings, previous_beta):
    """(scales, Start) for a warm run from `previous` (run with style weight previous_beta), or
    (scales, None) when it does not fit."""
    top = scales[-1]
    if previous is None or tuple(previous.result.shape[-2:]) != (top.height, top.width):
        return scales, None
    if previous_beta != beta:
        previous = rebalanced(previous, beta, previous_beta)
    scaled = images.resize(content, top.height, top.width)
    grow = repaint_margin(top.height, top.width)
    changes = changed(previous.content, scaled)
    mask = grown(changes, grow, grow)
    image = start_image(previous, scaled, mask)
    if previous.settings != global_settings(settings) or not changes.any():
        # A new balance everywhere, not a local change; or nothing changed at all: the whole picture goes
        # on from where the last run stopped (a re-run refines it, not copies it).
        mask = None
    gamma = previous.gamma and previous.gamma / (1 + beta)   # stored per unit of loss weight
    if not (WARM_HALF and len(scales) > 1):   # a small image: the half-size steps' time at the finest scale
        return [Scale(top.height, top.width, WARM_FINE + WARM_HALF // 4, top.style_sizes)], Start(image, gamma, mask)
    half = scales[-2]
    warm_scales = [Scale(half.height, half.width, WARM_HALF, half.style_sizes),
                   Scale(top.height, top.width, WARM_FINE, top.style_sizes)]
    gamma = gamma and gamma / 2   # the inverse curvature goes as the square root of the pixels
    around = None if mask is None else grown(changes, AROUND * grow, grow)
    return warm_scales, Start(image, gamma, mask, around)


def moving(scale, warm_start):
    """The pixels a scale of a warm run may move (1x1xHxW, soft), or None for all of them."""
    if warm_start is None or warm_start.mask is None:
        return None
    if warm_start.image.shape[-2:] == (scale.height, scale.width):
        return warm_start.around
    return images.resize(warm_start.mask, scale.height, scale.width).clamp(0, 1)


def start_of(scale, x, warm_start, scaled_content, settings, generator):
    """The image a scale starts from."""
    if x is None:
        if warm_start is not None:
            return images.resize(warm_start.image, scale.height, scale.width)
        return initial(scaled_content, settings["init"], generator)
    coarse = x.detach().float().cpu()
    if warm_start is None:
        return upscale(coarse, scaled_content)
    previous = images.resize(warm_start.image, scale.height, scale.width)
    if warm_start.mask is None:
        # A setting changed: keep the previous result's detail; take from the coarse pass what it changed.
        change = images.resize(coarse - images.resize(warm_start.image, *coarse.shape[-2:]), scale.height, scale.width)
        return (previous + change).clamp(0, 1)
    # Where the content changed, start as a cold run does (the coarse result with the content's detail):
    # the previous result's fine texture there was made for the old paint and shows through the new
    # (style distance +11-15 % of the cold run's after a stroke; this way within 2 %).
    mask = images.resize(warm_start.mask, scale.height, scale.width)
    return (previous * (1 - mask) + mask * upscale(coarse, scaled_content)).clamp(0, 1)


def upscale(coarse, content, amount=1.0):
    """The coarse result at the content's size, with `amount` of the content's detail that the coarse
    scale could not hold.

    Adding the content's high frequencies (its difference from a down-and-up-sampled copy) means a
    fine scale starts sharp and spends its few expensive steps on texture, not on edges; and a
    layer bigger than the working size comes out as sharp as it is, not as a blurred upscale.
    """
    h, w = content.shape[-2:]
    ch, cw = coarse.shape[-2:]
    result = images.resize(coarse, h, w)
    if amount > 0 and (ch, cw) != (h, w):
        result += amount * (content - images.resize(images.resize(content, ch, cw), h, w))
    return result.clamp(0, 1)

