"""Where each scale of a run starts from: the content (or noise), the coarser scale's result, or a warm start."""

import torch

from . import images
from .plan import Scale
from .warm import Start, start_image

# A warm run: WARM_STEPS at the finest scale, after WARM_COARSE at half size.  Measured on a 5 %
# stroke at 512 px (docs/benchmark.md): 8 finest steps cost ~1/4 of a cold run; a half-size pass
# first (16 or 24 steps) bought little (style distance +9 % / +8 % instead of +12 %), so none.
WARM_STEPS = 8
WARM_COARSE = 0


def initial(content, init, generator):
    noise = torch.rand(content.shape, generator=generator).to(content)
    if init == "noise":
        return noise
    if init == "blend":
        return 0.6 * content + 0.4 * noise
    return content.clone()


def warm_start_of(previous, scales, content, beta):
    """(scales, Start) for a warm run from `previous`, or (scales, None) when it does not fit.

    A warm run is WARM_COARSE steps at half size (4x cheaper: they paint the changes' style) and
    WARM_STEPS at the finest scale, each starting from the previous result.
    """
    top = scales[-1]
    if previous is None or tuple(previous.result.shape[-2:]) != (top.height, top.width):
        return scales, None
    scaled = images.resize(content, top.height, top.width)
    grow = max(2, round(max(top.height, top.width) / 64))   # VGG sees a neighbourhood: repaint around a change
    image, mask = start_image(previous, scaled, grow, grow)
    gamma = previous.gamma and previous.gamma / (1 + beta)   # stored per unit of loss weight
    warm_scales = [Scale(top.height, top.width, WARM_STEPS, top.style_sizes)]
    if WARM_COARSE and len(scales) > 1:
        warm_scales.insert(0, Scale(scales[-2].height, scales[-2].width, WARM_COARSE, scales[-2].style_sizes))
        gamma = gamma and gamma / 2
    return warm_scales, Start(image, gamma, mask)


def start_of(scale, x, warm_start, scaled_content, settings, generator):
    """The image a scale starts from."""
    if x is None:
        if warm_start is not None:
            return images.resize(warm_start.image, scale.height, scale.width)
        return initial(scaled_content, settings["init"], generator)
    coarse = x.detach().float().cpu()
    if warm_start is None:
        return upscale(coarse, scaled_content)
    # Warm: keep the previous result's detail; take from the coarse pass only what it changed.
    change = images.resize(coarse - images.resize(warm_start.image, *coarse.shape[-2:]), scale.height, scale.width)
    return (warm_start.image + warm_start.mask * change).clamp(0, 1)


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

