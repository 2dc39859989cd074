"""Loss terms of Gatys et al. (2016) as pure functions of feature maps and images."""

import math

import torch


def _wide(t):
    """At least fp32: reduced-precision activations are summed in fp32 (fp64 stays fp64)."""
    return t if t.dtype == torch.float64 else t.float()


def gram(features):
    """Gram matrix of N x C x H x W features, divided by M = H*W: N x C x C, in at least fp32.

    Dividing by M keeps the values of order one; the paper's 1/(4 N^2 M^2) is then
    1/(4 N^2) in `style_loss`.  The product runs in the features' own precision (bf16 matmuls
    accumulate in fp32; only the C x C result is rounded, by ~0.2 %): widening the features first
    made the Grams cost as much as the VGG pass on a CPU.  The 1/sqrt(M) goes in first so that
    fp16 cannot overflow.
    """
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w) * (1.0 / math.sqrt(h * w))
    return _wide(torch.bmm(f, f.transpose(1, 2)))


def content_loss(features, target):
    """Half the mean squared feature difference (the paper's 1/2 sum, per element so it does not grow with size)."""
    return 0.5 * (_wide(features) - _wide(target)).pow(2).mean()


def layer_style_loss(features, target_gram):
    """E_l = 1/(4 N^2 M^2) * sum (G - A)^2 for one layer; target_gram is A / M, as `gram` returns."""
    return layer_style_loss_of_grams(gram(features), target_gram)


def layer_style_loss_of_grams(g, target_gram):
    """E_l from the two Gram matrices (both divided by M)."""
    channels = g.shape[-1]
    return (g - target_gram).pow(2).sum(dim=(1, 2)).mean() / (4.0 * channels ** 2)


def style_loss(features, target_grams, layer_weights, each=lambda features: features):
    """Weighted sum of E_l over the style layers (all dicts keyed by layer name).

    each(features) is applied to one layer's features just before that layer's term is built (the
    engine puts a cancel point there, so that the backward pass checks between the layers' terms).
    """
    return sum(layer_weights[name] * layer_style_loss(each(features[name]), target_grams[name])
               for name in target_grams)


def tv_loss(image):
    """Total variation: mean squared difference between neighbouring pixels."""
    dh = image[..., 1:, :] - image[..., :-1, :]
    dw = image[..., :, 1:] - image[..., :, :-1]
    return _wide(dh).pow(2).mean() + _wide(dw).pow(2).mean()
