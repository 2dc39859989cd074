"""The objective of one scale: Gatys et al.'s loss of an image against its content and style targets."""

import math
from dataclasses import dataclass
from typing import Optional

import torch

from . import images, losses
from .errors import InputError

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_LAYER_WEIGHTS = {name: 1.0 / len(STYLE_LAYERS) for name in STYLE_LAYERS}
ALL_LAYERS = (CONTENT_LAYER,) + STYLE_LAYERS

TV_SCALE = 0.2         # smoothness 1.0 means this TV weight (TV is a mean of squares in 0-1 units)


@dataclass
class Temporal:
    """Ruder et al.'s temporal term: keep the image near `target` where `mask` trusts it (animation).

    target: 1x3xHxW in 0-1, the previous frame's result warped to this frame; mask: 1x1xHxW in 0-1
    (the flow's consistency).  Both at the content's size; `at` resizes them to a scale's.
    """
    target: torch.Tensor
    mask: torch.Tensor
    weight: float

    def at(self, height, width):
        return Temporal(images.resize(self.target, height, width), images.resize(self.mask, height, width),
                        self.weight)

    def loss(self, x):
        return (self.mask.to(x) * (x - self.target.to(x)).pow(2)).mean()   # x is fp32: the optimised pixels


def style_weights(styles):
    """The blend weights as floats, or an InputError that names the bad one."""
    weights = []
    for i, (_, w) in enumerate(styles):
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise InputError("style weight %d must be a number >= 0, not %r" % (i + 1, w))
        weights.append(float(w))
    if sum(weights) <= 0:
        raise InputError("the style weights are all 0: give at least one style a weight above 0")
    return weights


def objective(model, runtime, x, content_features, grams, weights, check=None, pooling="avg",
              temporal: Optional[Temporal] = None):
    """(total loss, {term: value}) of image x; weights: (content scale, style layer weights, beta, TV weight).

    temporal: an animation frame's Temporal term, already at x's size.
    """
    content_scale, layer_weights, beta, tv_weight = weights
    with runtime.autocast():
        features = model(runtime.prepare(x), ALL_LAYERS, pooling, check)
    c = content_scale * losses.content_loss(features[CONTENT_LAYER], content_features)
    each = (lambda f: _checked(f, check)) if check else (lambda f: f)
    s = losses.style_loss(features, grams, layer_weights, each=each)
    t = losses.tv_loss(x)
    loss = c + beta * s + tv_weight * t
    terms = {"content": c, "style": s, "tv": t}
    if temporal is not None:
        terms["temporal"] = temporal.loss(x)
        loss = loss + temporal.weight * terms["temporal"]
    terms["total"] = loss
    return loss, terms


def content_target(model, runtime, scaled_content, check, pooling="avg"):
    """The content's features at one scale."""
    with torch.no_grad(), runtime.autocast():
        return model(runtime.prepare(scaled_content), [CONTENT_LAYER], pooling, check)[CONTENT_LAYER]


def style_targets(model, runtime, style_images, weights, style_sizes, check, known=None, pooling="avg"):
    """The styles' blended Gram matrices at one scale's style sizes (`known`: the same, kept from an earlier run)."""
    if known is not None:
        return {name: g.to(runtime.device) for name, g in known.items()}
    grams = {name: 0.0 for name in STYLE_LAYERS}
    with torch.no_grad(), runtime.autocast():
        for image, w, (sh, sw) in zip(style_images, weights, style_sizes):
            features = model(runtime.prepare(images.resize(image, sh, sw)), STYLE_LAYERS, pooling, check)
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
