"""The engine's loop on real images at small sizes: quality, controls, starts, previews."""

import pytest
import torch

from backend import engine, images, quality
from backend.errors import InputError
from helpers import sample

QUICK = {"size": 192, "steps": 60, "preview_every": 1000, "resolution": "working"}


def load(name):
    return images.from_wire(images.load_file(sample(name)))[0]


@pytest.fixture(scope="module")
def pair():
    return load("chelsea.png"), load("starry_night_google.jpg")


def run_to_end(vgg, runtime, content, styles, **settings):
    progress = list(engine.stylize(vgg, runtime, content, styles, dict(QUICK, **settings)))
    assert progress[-1].done
    return progress[-1], progress[:-1]


def result(vgg, runtime, content, styles, **settings):
    return run_to_end(vgg, runtime, content, styles, **settings)[0].image


def test_style_distance_falls_while_content_stays_bounded(vgg, runtime, pair):
    content, style = pair
    out = result(vgg, runtime, content, [(style, 1.0)])
    assert out.shape == content.shape
    _, s0 = quality.distances(content, content, style, size=QUICK["size"])
    c1, s1 = quality.distances(out, content, style, size=QUICK["size"])
    # The style itself, laid over the content's frame, is how far "all style" is from the content.
    c_style, _ = quality.distances(images.resize(style, *content.shape[-2:]), content, style, size=QUICK["size"])
    assert s1 < s0 / 2.5, (s0, s1)
    assert c1 < 0.6 * c_style, (c1, c_style)


def test_strength_is_monotone(vgg, runtime, pair):
    content, style = pair
    measured = [quality.distances(result(vgg, runtime, content, [(style, 1.0)], strength=s), content, style,
                                  size=QUICK["size"])
                for s in (20, 50, 80)]
    content_d = [m[0] for m in measured]
    style_d = [m[1] for m in measured]
    assert content_d == sorted(content_d), measured
    assert style_d == sorted(style_d, reverse=True), measured


@pytest.mark.parametrize("mode,tolerance", [("luminance", 0.04), ("histogram", 0.07)])
def test_preserve_colors_keeps_the_content_mean_colour(vgg, runtime, pair, mode, tolerance):
    content, style = pair
    plain = result(vgg, runtime, content, [(style, 1.0)])
    kept = result(vgg, runtime, content, [(style, 1.0)], preserve_colors=mode)
    target = content.mean((0, 2, 3))
    shift_plain = (plain.mean((0, 2, 3)) - target).abs().max().item()
    shift_kept = (kept.mean((0, 2, 3)) - target).abs().max().item()
    assert shift_kept < tolerance and shift_kept < shift_plain / 3, (shift_kept, shift_plain)


def test_a_seed_repeats_the_result(vgg, runtime, pair):
    content, style = pair
    a = result(vgg, runtime, content, [(style, 1.0)], init="noise", seed=3, steps=8)
    b = result(vgg, runtime, content, [(style, 1.0)], init="noise", seed=3, steps=8)
    c = result(vgg, runtime, content, [(style, 1.0)], init="noise", seed=4, steps=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_blend_weights_select_styles(vgg, runtime, pair):
    content, style = pair
    other = load("the_scream.jpg")
    only = result(vgg, runtime, content, [(style, 1.0)], steps=6)
    blended = result(vgg, runtime, content, [(style, 2.0), (other, 0.0)], steps=6)
    mixed = result(vgg, runtime, content, [(style, 1.0), (other, 1.0)], steps=6)
    assert torch.allclose(only, blended, atol=1e-5)
    assert not torch.allclose(only, mixed, atol=1e-3)
    for bad in ([(style, -1.0)], [(style, 0.0)], [(style, True)], []):
        with pytest.raises(InputError, match="weight|no style"):
            result(vgg, runtime, content, bad, steps=1)


def test_noise_content_and_blend_starts_with_adam(vgg, runtime, pair):
    # Three Adam steps (lr 0.02) move a pixel by 0.06 at most, so the run's working result still shows
    # where it started: at the content, at noise (~0.33 from it on average), or 0.4 of the way to noise.
    content, style = pair
    away = {}
    for init in ("content", "noise", "blend"):
        done, _ = run_to_end(vgg, runtime, content, [(style, 1.0)], optimizer="adam", init=init, steps=3, scales=1)
        working = done.working
        assert 0 <= float(working.result.min()) and float(working.result.max()) <= 1
        away[init] = float((working.result - working.content).abs().mean())
    assert away["content"] < 0.06 < 0.25 < away["noise"], away
    assert 0.3 * away["noise"] < away["blend"] < 0.5 * away["noise"], away
    generator = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    small = images.resize(content, 24, 36)
    noise = engine.initial(small, "noise", generator())
    assert torch.allclose(engine.initial(small, "blend", generator()), 0.6 * small + 0.4 * noise)
    assert torch.equal(engine.initial(small, "content", generator()), small)


def test_a_cancel_ends_the_run_without_a_result(vgg, runtime, pair):
    content, style = pair
    polls = []
    stop = lambda: polls.append(1) or len(polls) > 40  # noqa: E731  (within the second or third step)
    progress = list(engine.stylize(vgg, runtime, content, [(style, 1.0)], dict(QUICK, steps=20), stop))
    assert len(progress) < 5 and not any(p.done for p in progress)


def test_each_step_reports_and_the_stages_go_coarse_to_fine(vgg, runtime, pair):
    content, style = pair
    done, steps = run_to_end(vgg, runtime, content, [(style, 1.0)], steps=12)
    assert [p.step for p in steps] == list(range(1, 13)) and all(p.total == 12 for p in steps)
    stages = [p.stage for p in steps]
    assert stages[0] == "96x64" and stages[-1] == "192x128", stages
    assert set(done.losses) == {"content", "style", "tv", "total"} and not done.warm
    assert done.working.result.shape[-2:] == (128, 192) and done.image.shape == content.shape


def test_previews_come_by_time_at_the_working_size(vgg, runtime, pair, monkeypatch):
    content, style = pair
    small = images.resize(content, 150, 200)
    monkeypatch.setattr(engine, "PREVIEW_SECONDS", 0.0)   # every step is "2 s later"
    _, steps = run_to_end(vgg, runtime, small, [(style, 1.0)], size=512, steps=5, preview_every=1000)
    assert all(p.image is not None for p in steps)
    assert max(steps[-1].image.shape[-2:]) == 200



def test_init_starts_a_cold_run_and_temporal_holds_it_where_masked(vgg, runtime, pair):
    """Animation's hooks: the run starts from `init`; a strong temporal term keeps it there where the mask trusts it."""
    content, style = pair
    h, w = content.shape[-2:]
    # A smooth random picture far from the content: it survives the working size's resizing.
    target = images.resize(torch.rand(1, 3, 6, 9, generator=torch.Generator().manual_seed(1)), h, w)
    settings = dict(QUICK, size=96, steps=6, scales=1, detail=0.0)
    first = next(iter(engine.stylize(vgg, runtime, content, [(style, 1.0)], dict(settings, steps=1), init=target)))
    assert first.image is not None
    small = images.resize(target, *first.image.shape[-2:])
    assert (first.image - small).abs().mean() < 0.03      # one step from the target: still that
    mask = torch.zeros(1, 1, h, w)
    mask[..., : w // 2] = 1.0                             # trust the left half only
    temporal = engine.Temporal(target, mask, weight=1e4)
    last = list(engine.stylize(vgg, runtime, content, [(style, 1.0)], settings, temporal=temporal))[-1]
    near = (last.image - target).abs()
    assert near[..., : w // 2 - 8].mean() < 0.08, near[..., : w // 2 - 8].mean()   # held to the target
    assert near[..., w // 2 + 8:].mean() > 0.2, near[..., w // 2 + 8:].mean()      # free: the content's
    assert "temporal" in last.losses
