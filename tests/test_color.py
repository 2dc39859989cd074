"""Colour preservation on real images: the content's chroma, colour statistics and luminance carried over."""

import pytest
import torch

from backend import color, images
from helpers import sample


@pytest.fixture(scope="module")
def pair():
    load = lambda name: images.scale_to(images.from_wire(images.load_file(sample(name)))[0], 128)  # noqa: E731
    content = load("chelsea.png")
    return content, images.resize(load("starry_night_google.jpg"), *content.shape[-2:])


def yiq(rgb):
    return color._apply(color._RGB_TO_YIQ, rgb)


def test_luminance_transfer_keeps_the_result_luminance_and_the_content_chroma(pair):
    content, style = pair
    out = color.luminance_transfer(style, content)
    inside = ((out > 0.01) & (out < 0.99)).all(1)   # where the clamp did not bite
    assert float(inside.float().mean()) > 0.8
    assert (yiq(out)[:, 0] - yiq(style)[:, 0])[inside].abs().max() < 1e-4
    assert (yiq(out)[:, 1:] - yiq(content)[:, 1:]).permute(1, 0, 2, 3)[:, inside].abs().max() < 1e-4


def test_histogram_matching_gives_the_style_the_content_colour_statistics(pair):
    content, style = pair
    out = color.match_histogram(style, content)
    (mo, co), (mc, cc), (ms, cs) = (color._mean_cov(x) for x in (out, content, style))
    assert (mo - mc).abs().max() < 0.01 < (ms - mc).abs().max()
    assert (co - cc).norm() < 0.1 * (cs - cc).norm()


def test_luminance_matching_gives_a_gray_style_with_the_content_brightness(pair):
    content, style = pair
    out = color.match_luminance(style, content)
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])
    y, yc = yiq(out)[:, 0], yiq(content)[:, 0]
    assert float(y.mean()) == pytest.approx(float(yc.mean()), abs=0.01)
    assert float(y.std()) == pytest.approx(float(yc.std()), rel=0.05)


def test_recoloured_styles_follow_the_mode(pair):
    content, style = pair
    assert color.recoloured([style], content, "none")[0] is style
    assert torch.equal(color.recoloured([style], content, "histogram")[0], color.match_histogram(style, content))
    assert torch.equal(color.recoloured([style], content, "luminance")[0], color.match_luminance(style, content))
