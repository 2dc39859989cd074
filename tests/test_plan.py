"""The pyramid of a job: sizes, step budgets and style sizes (pure functions)."""

import pytest

from backend import plan
from backend.errors import InputError
from krita_nst.core.settings import check_settings


def scales_of(content_hw, style_hws=((600, 800),), max_pixels=None, **settings):
    return plan.plan(content_hw, list(style_hws), check_settings(settings), max_pixels)


def test_the_pyramid_halves_down_to_the_coarsest_size_and_spends_most_steps_there():
    scales, note = scales_of((1200, 1600), size=512, steps=100)
    assert [(s.width, s.height) for s in scales] == [(128, 96), (256, 192), (512, 384)] and note == ""
    assert [s.steps for s in scales] == [50, 25, 25] and sum(s.steps for s in scales) == 100
    assert [(s.width, s.height) for s in scales_of((1200, 1600), size=512, scales=1)[0]] == [(512, 384)]
    assert len(scales_of((1200, 1600), size=512, scales=2)[0]) == 2
    assert len(scales_of((1200, 1600), size=512, scales=4)[0]) == 3   # a 48 px side would be too small for VGG


def test_budgets_add_up_and_every_scale_gets_a_step():
    for total in (1, 2, 7, 100, 301):
        for count in (1, 2, 3, 4, 5):
            steps = plan.budget(total, count)
            assert len(steps) == count and min(steps) >= 1
            assert sum(steps) == max(total, count) or total < count
    assert plan.budget(100, 2) == [66, 34] and plan.budget(10, 4) == [5, 2, 1, 2]


def test_a_small_layer_is_worked_at_its_own_size_and_memory_lowers_the_size():
    assert scales_of((150, 200), size=512)[0][-1].width == 200   # never blown up
    scales, note = scales_of((1200, 1600), size=512, max_pixels=256 * 192)
    assert (scales[-1].width, scales[-1].height) == (256, 192) and "lowered from 512 to 256" in note


def test_too_small_or_too_thin_content_is_refused_with_its_sizes():
    with pytest.raises(InputError, match="too small.*1x1"):
        scales_of((1, 1))
    with pytest.raises(InputError, match="too thin.*2000x20 px becomes"):
        scales_of((20, 2000), size=512)


def test_style_is_seen_at_the_content_pixel_count_times_style_scale():
    for style_hw, content_hw in (((1528, 1200), (384, 384)), ((100, 1000), (300, 40)), ((512, 512), (96, 128))):
        for scale in (0.5, 1.0, 2.0):
            h, w = plan.style_size(style_hw, content_hw, scale)
            assert h / w == pytest.approx(style_hw[0] / style_hw[1], rel=0.05)
            assert h * w == pytest.approx(content_hw[0] * content_hw[1] * scale ** 2, rel=0.05)
    assert min(plan.style_size((10, 4000), (20, 20), 0.1)) >= plan.MIN_SIDE
    scales, _ = scales_of((1200, 1600), style_hws=[(600, 800), (1000, 250)], size=512, style_scale=2.0)
    assert scales[-1].style_sizes == [plan.style_size(hw, (384, 512), 2.0) for hw in [(600, 800), (1000, 250)]]
