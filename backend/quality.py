"""A fixed yardstick for results: content distance and style distance measured with VGG19.

Both are relative errors, measured at a fixed size (longest side QUALITY_SIZE) with max pooling
(the network as trained, neutral between engines that optimise with either pooling):
- content distance: ||F - P||^2 / ||P||^2 at relu4_2 (output vs content);
- style distance: mean over relu1_1..relu5_1 of ||G - A||_F / ||A||_F (Gram matrices, output vs
  style; the style is resized to the output's pixel count, as most implementations do).
Lower is better for both; a result cannot be close to both at once: strength picks the balance.
"""

import math

import torch

from . import images, losses
from .engine import CONTENT_LAYER, STYLE_LAYERS
from .model import load_vgg19

QUALITY_SIZE = 256
_model = None


def _vgg():
    global _model
    if _model is None:
        _model = load_vgg19(None, (CONTENT_LAYER,) + STYLE_LAYERS)
    return _model


@torch.no_grad()
def distances(output, content, style, size=QUALITY_SIZE):
    """(content distance, style distance) of an output (1x3xHxW RGB in 0-1) to its content and style.

    `size` other than QUALITY_SIZE is for quick tests that work at a smaller size.
    """
    model = _vgg()
    out = images.scale_to(output.float(), size)
    cont = images.resize(content.float(), *out.shape[-2:])
    pixels = out.shape[-2] * out.shape[-1]
    sh, sw = style.shape[-2:]
    scale = math.sqrt(pixels / (sh * sw))
    sty = images.resize(style.float(), max(1, round(sh * scale)), max(1, round(sw * scale)))
    layers = (CONTENT_LAYER,) + STYLE_LAYERS
    fo, fc, fs = (model(out, layers, "max"), model(cont, [CONTENT_LAYER], "max"), model(sty, STYLE_LAYERS, "max"))
    p = fc[CONTENT_LAYER]
    content_d = float((fo[CONTENT_LAYER] - p).pow(2).sum() / p.pow(2).sum())
    style_d = 0.0
    for name in STYLE_LAYERS:
        g, a = losses.gram(fo[name]), losses.gram(fs[name])
        style_d += float((g - a).norm() / a.norm()) / len(STYLE_LAYERS)
    return content_d, style_d
