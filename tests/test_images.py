"""Pixels in and out on real images: wire layouts, alpha, resizing, and the upscale with the content's detail."""

import torch

from backend import images
from helpers import sample
from krita_nst.core import wire


def photo(longest=None):
    rgb = images.from_wire(images.load_file(sample("chelsea.png")))[0]
    return images.scale_to(rgb, longest) if longest else rgb


def high_frequencies(image):
    h, w = image.shape[-2:]
    return float((image - images.resize(images.resize(image, h // 4, w // 4), h, w)).pow(2).mean())


def test_every_layout_goes_to_the_wire_and_back():
    rgb = photo(64)
    alpha = torch.linspace(0, 1, rgb.shape[-1]).expand(1, 1, *rgb.shape[-2:]).contiguous()
    for fmt in ("RGBA8", "BGRA8", "RGB8", "GRAYA8", "GRAY8"):
        image = images.to_wire(rgb, alpha, fmt)
        assert (image.width, image.height, image.format) == (rgb.shape[-1], rgb.shape[-2], fmt)
        back, back_alpha = images.from_wire(image)
        assert (back_alpha is None) == (fmt in ("RGB8", "GRAY8"))
        if fmt in ("RGB8", "RGBA8", "BGRA8"):
            opaque = alpha[0, 0] == 1
            assert (back[..., opaque] - rgb[..., opaque]).abs().max() <= 0.5 / 255 + 1e-6
    # Transparent pixels are seen over white paper.
    clear = wire.Image(2, 1, "RGBA8", bytes([0, 0, 0, 0, 10, 20, 30, 255]))
    rgb, alpha = images.from_wire(clear)
    assert torch.allclose(rgb[0, :, 0, 0], torch.ones(3)) and float(alpha[0, 0, 0, 1]) == 1.0


def test_resize_keeps_the_range_and_scale_to_the_aspect():
    rgb = photo()
    small = images.scale_to(rgb, 100)
    assert max(small.shape[-2:]) == 100 and 0 <= float(small.min()) and float(small.max()) <= 1
    assert images.resize(rgb, *rgb.shape[-2:]) is rgb


def test_an_upscale_carries_the_content_detail_the_coarse_scale_lost():
    content = photo(384)
    coarse = images.resize(content, content.shape[-2] // 4, content.shape[-1] // 4)
    plain = images.upscale(coarse, content, 0.0)
    sharp = images.upscale(coarse, content)
    half = images.upscale(coarse, content, 0.5)
    assert plain.shape == sharp.shape == content.shape
    assert torch.allclose(plain, images.resize(coarse, *content.shape[-2:]))
    # With all the detail, a down-sampled copy of the content comes back as the content.
    assert float((sharp - content).abs().max()) < 1e-5 and float((plain - content).abs().mean()) > 0.01
    assert high_frequencies(plain) < high_frequencies(half) < high_frequencies(sharp)
    assert torch.equal(images.upscale(content, content), content.clamp(0, 1))
