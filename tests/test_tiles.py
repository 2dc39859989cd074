"""The full-resolution objective in tiles (backend/tiles.py): the same loss and gradient as untiled."""

import pytest
import torch

from backend import images, tiles
from helpers import sample


def load(name):
    return images.from_wire(images.load_file(sample(name)))[0]


def test_the_cores_partition_the_image_and_every_window_has_one_shape_and_its_context():
    for height, width, window in ((203, 261, 96), (1536, 2048, 640), (300, 451, 4096), (97, 1000, 64)):
        grid = tiles.grid(height, width, window)
        covered = torch.zeros(height, width, dtype=torch.int32)
        for tile in grid:
            r0, c0, r1, c1 = tile.window
            cr0, cc0, cr1, cc1 = tile.core
            covered[cr0:cr1, cc0:cc1] += 1
            assert r0 % tiles.ALIGN == 0 and c0 % tiles.ALIGN == 0       # the pooled grids line up
            assert r0 <= cr0 and cr1 <= r1 and c0 <= cc0 and cc1 <= c1
            # HALO pixels of context on every side that is not the image's own edge
            assert (cr0 - r0 >= tiles.HALO or r0 == 0) and (r1 - cr1 >= tiles.HALO or r1 == height)
            assert (cc0 - c0 >= tiles.HALO or c0 == 0) and (c1 - cc1 >= tiles.HALO or c1 == width)
        assert bool((covered == 1).all()), (height, width, window)       # each pixel's features: one tile's
        assert len({(t.window[2] - t.window[0], t.window[3] - t.window[1]) for t in grid}) == 1
    assert len(tiles.grid(1536, 2048, 640)) == 12 and len(tiles.grid(300, 451, 4096)) == 1


@pytest.mark.parametrize("window", [64, 96, 150])
def test_the_tiled_loss_and_gradient_equal_the_untiled_ones(vgg, runtime, window):
    content = images.resize(load("chelsea.png"), 203, 261)     # odd sizes: the last windows move inward
    style = load("starry_night_google.jpg")
    targets = tiles.grams(vgg, runtime, images.resize(style, 160, 200), tiles.grid(160, 200, 4096), "avg",
                          lambda: None)
    weights = tiles.balanced_weights(targets)
    whole = content.clone().requires_grad_(True)
    loss, grams = tiles.untiled_style_value_and_grad(vgg, runtime, whole, targets, weights, "avg")
    tiled = content.clone().requires_grad_(True)
    grid = tiles.grid(203, 261, window)
    assert len(grid) > 4
    tiled_loss, tiled_grams = tiles.style_value_and_grad(vgg, runtime, tiled, targets, weights, grid, "avg",
                                                         lambda: None)
    # bf16 on an AVX-512 CPU rounds each window's sums a little differently: a tolerance, not equality
    tolerance = 1e-4 if runtime.dtype == torch.float32 else 2e-2
    assert float(tiled_loss) == pytest.approx(float(loss), rel=tolerance)
    for name in tiles.FINE_LAYERS:
        assert torch.allclose(tiled_grams[name], grams[name], rtol=tolerance, atol=tolerance * grams[name].abs().max())
    difference = (tiled.grad - whole.grad).abs().max() / whole.grad.abs().max()
    assert difference < tolerance, difference
    assert float(whole.grad.abs().sum()) > 0


def test_a_cancel_stops_a_tiled_pass_between_layers(vgg, runtime):
    x = torch.rand(1, 3, 128, 128).requires_grad_(True)
    targets = {n: torch.eye(c)[None] for n, c in zip(tiles.FINE_LAYERS, (64, 128, 256))}
    calls = []

    def check():
        calls.append(1)
        if len(calls) > 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        tiles.style_value_and_grad(vgg, runtime, x, targets, tiles.balanced_weights(targets),
                                   tiles.grid(128, 128, 64), "avg", check)
    assert len(calls) == 4
