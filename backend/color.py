"""Colour preservation (Gatys et al., "Preserving Color in Neural Artistic Style Transfer", 2016)."""

import torch

# YIQ: luminance Y and two chroma channels, as in the paper.
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                            [0.595716, -0.274453, -0.321263],
                            [0.211456, -0.522591, 0.311135]])
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def _apply(matrix, rgb):
    return torch.einsum("ij,njhw->nihw", matrix.to(rgb), rgb)


def luminance_transfer(result, content):
    """The result's luminance with the content's chroma (both N x 3 x H x W, same size)."""
    yiq = _apply(_RGB_TO_YIQ, result)
    yiq[:, 1:] = _apply(_RGB_TO_YIQ, content)[:, 1:]
    return _apply(_YIQ_TO_RGB, yiq).clamp(0, 1)


def match_luminance(style, content):
    """The style as a gray image whose luminance has the content's mean and spread.

    With `luminance_transfer` afterwards this is the paper's luminance-only transfer: the style
    brings strokes and texture, the content keeps its colours and overall brightness.
    """
    ys, yc = _apply(_RGB_TO_YIQ, style)[:, :1], _apply(_RGB_TO_YIQ, content)[:, :1]
    y = (ys - ys.mean()) / ys.std().clamp_min(1e-6) * yc.std() + yc.mean()
    return y.clamp(0, 1).expand(-1, 3, -1, -1).contiguous()


def _mean_cov(rgb):
    x = rgb.reshape(3, -1).double()
    mean = x.mean(1, keepdim=True)
    centred = x - mean
    return mean, centred @ centred.T / x.shape[1] + 1e-5 * torch.eye(3, dtype=x.dtype)


def _sqrtm(cov, inverse=False):
    values, vectors = torch.linalg.eigh(cov)
    values = values.clamp_min(1e-8).pow(-0.5 if inverse else 0.5)
    return vectors @ torch.diag(values) @ vectors.T


def match_histogram(style, content):
    """Recolour `style` (1 x 3 x H x W) so its colour mean and covariance match `content`'s.

    The linear map of the paper's colour histogram matching (Cholesky-free symmetric form).
    """
    ms, cs = _mean_cov(style)
    mc, cc = _mean_cov(content)
    transform = _sqrtm(cc) @ _sqrtm(cs, inverse=True)
    x = style.reshape(3, -1).double()
    out = transform @ (x - ms) + mc
    return out.reshape(style.shape).to(style.dtype).clamp(0, 1)


def recoloured(style_images, content, preserve_colors):
    """The styles as the optimisation sees them: recoloured from the content in the colour-keeping modes."""
    if preserve_colors == "histogram":
        return [match_histogram(s, content) for s in style_images]
    if preserve_colors == "luminance":
        return [match_luminance(s, content) for s in style_images]
    return style_images
