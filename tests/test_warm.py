"""Warm starts: the change masks, the memory of finished runs, the warm decision and warm runs on the real VGG19."""

import pytest
import torch
import torch.nn.functional as F

from backend import engine, images, quality, warm
from backend.errors import InputError
from backend.losses import style_weight
from backend.plan import plan
from helpers import sample
from krita_nst.core.settings import check_settings

QUICK = {"size": 192, "steps": 60, "preview_every": 1000, "resolution": "working"}


@pytest.fixture(scope="module")
def pair():
    load = lambda name: images.from_wire(images.load_file(sample(name)))[0]  # noqa: E731
    return load("chelsea.png"), load("starry_night_google.jpg")


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


def test_a_working_state_keeps_its_curvature_per_unit_of_loss_weight():
    image = torch.rand(1, 3, 8, 8)
    working = warm.Working.of_run(image, image, 0.5, 9.0, check_settings({}), {})
    assert working.gamma == pytest.approx(5.0) and working.gamma_at(9.0) == pytest.approx(0.5)
    assert working.gamma_at(4.0) == pytest.approx(1.0) and warm.Working(image, image, None).gamma_at(1.0) is None


def run_to_end(vgg, runtime, content, styles, previous=None, **settings):
    progress = list(engine.stylize(vgg, runtime, content, styles, dict(QUICK, **settings), previous=previous))
    return progress[-1], progress[:-1]
def test_a_warm_start_reaches_the_cold_distances_in_a_fifth_of_the_steps(vgg, runtime, pair, monkeypatch):
    # 20 finest steps from the warm start against a cold run of 100, after a compact stroke.  The
    # default warm run is shorter and trades some distance for time (docs/benchmark.md).
    monkeypatch.setattr(warm, "WARM_HALF", 0)
    monkeypatch.setattr(warm, "WARM_FINE", 20)
    content, style = pair
    first, _ = run_to_end(vgg, runtime, content, [(style, 1.0)], steps=100)
    stroked = content.clone()
    stroked[..., 120:150, 80:300] = torch.tensor([0.85, 0.2, 0.15]).view(1, 3, 1, 1)   # a brush stroke, ~5 %
    cold, cold_steps = run_to_end(vgg, runtime, stroked, [(style, 1.0)], steps=100)
    again, warm_steps = run_to_end(vgg, runtime, stroked, [(style, 1.0)], previous=first.working)
    assert again.warm and not cold.warm and all(p.warm for p in warm_steps)
    assert len(warm_steps) * 5 <= len(cold_steps), (len(warm_steps), len(cold_steps))
    c_cold, s_cold = quality.distances(cold.image, stroked, style, size=QUICK["size"])
    c_warm, s_warm = quality.distances(again.image, stroked, style, size=QUICK["size"])
    assert c_warm < 1.02 * c_cold and s_warm < 1.02 * s_cold, ((c_warm, s_warm), (c_cold, s_cold))


def thin_stroke(content, colour=(0.85, 0.2, 0.15), width=0.05):
    """The content with a red zigzag band across it, `width` of the height wide."""
    _, _, h, w = content.shape
    ys, xs = torch.meshgrid(torch.arange(h).float() / h, torch.arange(w).float() / w, indexing="ij")
    zigzag = 0.45 + 0.15 * (1 - 2 * ((xs * 4) % 1 - 0.5).abs() * 2)
    band = (((ys - zigzag).abs() < width / 2) & (xs > 0.1) & (xs < 0.9)).float().view(1, 1, h, w)
    return content * (1 - band) + torch.tensor(colour).view(1, 3, 1, 1) * band


def test_the_default_warm_run_paints_a_stroke_in_the_style_from_kept_style_targets(vgg, runtime, pair, monkeypatch):
    # The default schedule at the default size after a thin stroke: both distances near a cold run's
    # (measured +2.2 % and +0.8 %), in under a quarter of its steps.  When the finest scale started
    # the stroke from the old texture, the stroke stayed red: style +14.8 %.  The styles' VGG passes
    # are not repeated: the thread kept their Gram matrices.
    content, style = pair
    settings = dict(size=512, steps=100)
    first, _ = run_to_end(vgg, runtime, content, [(style, 1.0)], **settings)
    stroked = thin_stroke(content)
    cold, cold_steps = run_to_end(vgg, runtime, stroked, [(style, 1.0)], **settings)
    computed = []
    real = engine.style_targets
    monkeypatch.setattr(engine, "style_targets", lambda *args: computed.append(args[-1] is None) or real(*args))
    again, warm_steps = run_to_end(vgg, runtime, stroked, [(style, 1.0)], previous=first.working, **settings)
    assert again.warm and len(warm_steps) * 4 <= len(cold_steps), (len(warm_steps), len(cold_steps))
    assert computed == [False, False]
    # Far from the stroke (its band starts at 27 % of the height; the finest scale moves up to ~18 %
    # of the height around it) the picture is exactly the last result's.
    top = first.working.result.shape[-2] // 15
    assert torch.equal(again.working.result[..., :top, :], first.working.result[..., :top, :])
    c_cold, s_cold = quality.distances(cold.image, stroked, style)
    c_warm, s_warm = quality.distances(again.image, stroked, style)
    assert c_warm < 1.05 * c_cold and s_warm < 1.05 * s_cold, ((c_warm, s_warm), (c_cold, s_cold))


def test_a_re_run_with_nothing_changed_goes_on_from_the_last_result(vgg, runtime, pair):
    # It used to move nothing (the changed region was empty): a wait for a copy of the last result.
    content, style = pair
    first, first_steps = run_to_end(vgg, runtime, content, [(style, 1.0)], steps=20)
    again, steps = run_to_end(vgg, runtime, content, [(style, 1.0)], steps=20, previous=first.working)
    assert again.warm and not torch.equal(again.working.result, first.working.result)
    assert steps[-1].losses["total"] < first_steps[-1].losses["total"], (first_steps[-1].losses, steps[-1].losses)


def test_a_warm_start_needs_the_same_working_size(vgg, runtime, pair):
    content, style = pair
    first, _ = run_to_end(vgg, runtime, content, [(style, 1.0)], steps=4)
    other, _ = run_to_end(vgg, runtime, content, [(style, 1.0)], steps=4, size=160, previous=first.working)
    same, steps = run_to_end(vgg, runtime, content, [(style, 1.0)], strength=65, previous=first.working)
    assert not other.warm and same.warm and len(steps) <= warm.WARM_HALF + warm.WARM_FINE


def test_a_stroke_is_worked_where_it_is_and_a_new_strength_everywhere(pair):
    content, style = pair
    settings = check_settings(QUICK)
    scales, _ = plan(content.shape[-2:], [style.shape[-2:]], settings)
    h, w = scales[-1].height, scales[-1].width
    before = images.resize(content, h, w)
    grams = {((h, w), "avg"): {}}
    previous = warm.Working(before, before.flip(-1), 1.0, warm.global_settings(settings), grams)
    beta = style_weight(settings["strength"])
    stroked = content.clone()
    stroked[..., 10:20, 10:40] = 1.0
    warm_scales, start, known = warm.begin(previous, scales, stroked, beta, settings)
    assert start is not None and start.mask is not None and [s.steps for s in warm_scales] == [
        warm.WARM_HALF, warm.WARM_FINE] and known is grams
    assert start.gamma == pytest.approx(1.0 / (1 + beta) / 2)   # unpacked, and halved for the half size
    assert torch.equal(start.image[..., -30:, -30:], previous.result[..., -30:, -30:])   # far from the stroke
    half = start.moving(warm_scales[0])
    assert half is not None and 0 < float(half.mean()) < 0.1 and float(half[..., -1, -1]) == 0.0
    fine = start.moving(warm_scales[1])   # the finest scale: a wider region around the stroke, not all
    assert fine is not None and float(half.mean()) < float(fine.mean()) < 0.5 and float(fine[..., -1, -1]) == 0.0
    assert bool((fine >= start.mask).all())
    _, start, _ = warm.begin(previous, scales, stroked, style_weight(65), dict(settings, strength=65))
    assert start is not None and start.mask is None and start.moving(warm_scales[0]) is None
    _, start, _ = warm.begin(previous, scales, content, beta, settings)   # nothing changed: all of it
    assert start is not None and start.mask is None and start.moving(warm_scales[1]) is None
    # Another working size: a cold run on the planned scales, still with the styles' known targets
    # (none when the colours are kept: those styles are recoloured from the content).
    other, _ = plan(content.shape[-2:], [style.shape[-2:]], dict(settings, size=160))
    assert warm.begin(previous, other, content, beta, settings) == (other, None, grams)
    assert warm.begin(previous, other, content, beta, dict(settings, preserve_colors="luminance"))[2] == {}
    # A single-scale image: the half-size steps' time goes to the finest scale.
    one = scales[-1:]
    single, start, _ = warm.begin(previous, one, stroked, beta, settings)
    assert [s.steps for s in single] == [warm.WARM_FINE + warm.WARM_HALF // 4] and start.around is None
    # A stronger style starts further from the content, a weaker one nearer, none at the content.
    for beta, scale in ((4.0, 4.0 ** warm.REBALANCE), (0.25, 0.25 ** warm.REBALANCE), (0.0, 0.0)):
        moved = warm.rebalanced(previous, beta, 1.0).result
        assert torch.allclose(moved, (before + scale * (previous.result - before)).clamp(0, 1))
