"""backend/flow.py: warping by a known flow, DIS on a real photo, the consistency mask on a synthetic occlusion."""

import numpy as np
import pytest
import torch

from backend import flow, images
from backend.errors import InputError
from helpers import sample


def photo():
    return images.from_wire(images.load_file(sample("chelsea.png")))[0]   # 451x300


def constant(h, w, dx, dy):
    f = np.zeros((h, w, 2), np.float32)
    f[..., 0], f[..., 1] = dx, dy
    return f


def test_warping_by_a_known_flow_moves_the_picture_by_it():
    image = photo()[..., :200, :300]
    moved = flow.warp(image, constant(200, 300, 7, -3))            # out(p) = image(p + (7, -3))
    assert torch.allclose(moved[..., 3:, :-7], image[..., :-3, 7:], atol=1e-5)
    half = flow.warp(image, constant(200, 300, 0.5, 0))            # bilinear: halfway between two pixels
    assert torch.allclose(half[..., :-1], (image[..., :-1] + image[..., 1:]) / 2, atol=1e-5)
    edge = flow.warp(image, constant(200, 300, -50, 0))            # off the frame: its edge, not black
    assert torch.allclose(edge[..., :50], image[..., :1].expand(-1, -1, -1, 50), atol=1e-5)
    with pytest.raises(ValueError, match="cannot warp"):
        flow.warp(image, constant(100, 300, 0, 0))


def test_dis_finds_a_shift_of_a_real_photo_and_its_warp_matches():
    c = photo()
    a, b = c[..., 20:280, 20:404], c[..., 23:283, 15:399]        # a(p) = b(p + (5, -3))
    assert flow.method() == "dis"
    f = flow.flow(a, b)
    assert np.allclose(f[30:-30, 30:-30].mean((0, 1)), (5, -3), atol=0.05)
    assert (flow.warp(b, f) - a)[..., 10:-10, 10:-10].abs().mean() < 0.005 < (b - a).abs().mean()
    with pytest.raises(InputError, match="one size"):
        flow.flow(a, b[..., :100])


def occlusion(h=120, w=160, x0=40, step=12, size=40):
    """A square of one photo's texture moving `step` px right over another's: (frame a, frame b, true flows)."""
    c = photo()
    background, square = c[..., :h, :w], c[..., 150:150 + size, 250:250 + size]
    a, b = background.clone(), background.clone()
    y0 = 40
    a[..., y0:y0 + size, x0:x0 + size] = square
    b[..., y0:y0 + size, x0 + step:x0 + step + size] = square
    backward, forward = np.zeros((h, w, 2), np.float32), np.zeros((h, w, 2), np.float32)
    backward[y0:y0 + size, x0 + step:x0 + step + size, 0] = -step   # b's square was `step` px left in a
    forward[y0:y0 + size, x0:x0 + size, 0] = step
    uncovered = (slice(y0 + 4, y0 + size - 4), slice(x0 + 2, x0 + step - 2))   # background in b, square in a
    inside = (slice(y0 + 4, y0 + size - 4), slice(x0 + step + 4, x0 + step + size - 4))
    far = (slice(0, 30), slice(0, w))
    return a, b, backward, forward, uncovered, inside, far


def test_the_consistency_mask_drops_what_was_hidden_and_keeps_what_was_seen():
    _, _, backward, forward, uncovered, inside, far = occlusion()
    mask = flow.consistency(backward, forward)[0, 0]
    assert mask[uncovered].max() == 0               # hidden behind the square in the frame before
    assert mask[inside].min() == 1 and mask[far].min() == 1
    only = flow.consistency(backward, forward, boundaries=False)[0, 0]
    y, x = 60, 40 + 12 + 40                         # the square's leading edge in b: a motion boundary
    assert mask[y, x - 1] == 0 and only[y, x - 1] == 1
    out = flow.consistency(constant(120, 160, -30, 0), constant(120, 160, 30, 0))[0, 0]
    assert out[:, :30].max() == 0 and out[:, 31:].min() == 1   # from outside the frame before: not trusted


def test_the_mask_of_dis_flows_on_the_occlusion():
    a, b, _, _, uncovered, inside, far = occlusion()
    _, mask = flow.between(a, b)
    mask = mask[0, 0]
    assert mask[uncovered].mean() < 0.3, mask[uncovered].mean()
    assert mask[inside].mean() > 0.8 and mask[far].mean() > 0.9, (mask[inside].mean(), mask[far].mean())
