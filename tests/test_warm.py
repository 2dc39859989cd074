"""warm.py's parts without a model: the change masks and the memory of finished runs."""

import pytest
import torch
import torch.nn.functional as F

from backend import warm
from backend.plan import InputError


def square_pooled(mask, grow, soften):
    """grown() as a plain square window each time: what the column-then-row passes must equal."""
    if grow:
        mask = F.max_pool2d(mask, 2 * grow + 1, stride=1, padding=grow)
    if soften:
        mask = F.avg_pool2d(F.max_pool2d(mask, 2 * soften + 1, stride=1, padding=soften),
                            2 * soften + 1, stride=1, padding=soften, count_include_pad=False)
    return mask


def test_a_grown_mask_is_one_within_grow_and_fades_over_twice_soften():
    mask = torch.zeros(1, 1, 41, 41)
    mask[..., 20, 20] = 1.0
    out = warm.grown(mask, 3, 4)
    row = out[0, 0, 20]
    assert bool((row[17:24] == 1).all())                        # 1 within `grow`
    assert 0 < float(row[24]) < 1 and 0 < float(row[31]) < 1    # fading over 2 x `soften` px
    assert float(row[32]) == 0.0 and float(out[0, 0, 8, 8]) == 0.0
    assert torch.allclose(out, out.transpose(-1, -2)) and torch.equal(out, out.flip(-1))


@pytest.mark.parametrize("shape", [(64, 64), (30, 45), (7, 3)])
@pytest.mark.parametrize("grow, soften", [(12, 12), (36, 12), (0, 5), (3, 0), (2, 2)])
def test_a_grown_mask_is_the_square_windows_one(shape, grow, soften):
    torch.manual_seed(0)
    mask = (torch.rand(1, 1, *shape) > 0.97).float()
    assert torch.allclose(warm.grown(mask, grow, soften), square_pooled(mask, grow, soften), atol=1e-6)


def test_warm_memory_keeps_the_last_four_threads_and_checks_styles():
    memory = warm.Memory()
    image = torch.rand(1, 3, 8, 8)
    for key in "abcde":
        memory.remember(key, "styles", warm.Working(image, image, 1.0))
    assert len(memory) == 4 and memory.recall("a", "styles") is None
    kept = memory.recall("e", "styles")
    assert kept is not None and (kept.result - image).abs().max() <= 0.5 / 255 + 1e-6
    assert memory.recall("e", "other styles") is None and memory.recall(None, "styles") is None
    with pytest.raises(InputError, match="key"):
        warm.check_key("x" * 201)
