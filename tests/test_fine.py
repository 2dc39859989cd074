"""Full resolution (backend/fine.py and the engine's passes): the memory plan, the auto rule, and real runs
that paint the layer at its own size pass by pass, report every step, cancel, and finish a result."""

import types

import pytest
import torch

from backend import engine, fine, images, plan, tiles
from helpers import sample
from krita_nst.core.settings import check_settings
from krita_nst.core.sizes import FULL_STEPS

GB = 2 ** 30


def load(name):
    return images.from_wire(images.load_file(sample(name)))[0]


@pytest.mark.parametrize("side, free, device", [(512, 1 * GB, "cpu"), (2048, 1 * GB, "cpu"), (8192, 1 * GB, "cpu"),
                                                 (512, 64 * GB, "cpu"), (2048, 64 * GB, "cuda"),
                                                 (8192, 64 * GB, "cuda"), (8192, 1 * GB, "cuda")])
def test_the_plan_of_512_2048_and_8192_px_layers_on_small_and_big_memory(side, free, device):
    settings = check_settings({})
    hw = (side * 3 // 4, side)
    scales, _ = plan.plan(hw, [(1014, 1280)], settings)
    passes = plan.full_passes((scales[-1].height, scales[-1].width), hw, [(1014, 1280)], settings)
    assert (scales[-1].width, scales[-1].height) == (512, 384)
    assert [(p.width, p.height) for p in passes] == [(512 << i, 384 << i) for i in range(1, (side // 512).bit_length())]
    assert all(p.full and p.steps == FULL_STEPS for p in passes)
    window = fine.window_pixels(free, device, reduced=True)
    assert window * fine.BYTES_PER_PIXEL["reduced"] <= free * fine.HEADROOM or window == 128 * 128
    assert window <= (fine.CPU_WINDOW if device == "cpu" else fine.GPU_WINDOW)
    for p in passes:
        grid = tiles.grid(p.height, p.width, int(window ** 0.5))
        biggest = max((t.window[2] - t.window[0]) * (t.window[3] - t.window[1]) for t in grid)
        assert biggest <= window * 1.05     # memory bounded by the window, however big the layer
        assert fine.history_for(p.height * p.width) * 2 * 3 * 4 * p.height * p.width <= max(
            fine.HISTORY_BYTES, fine.MIN_HISTORY * 2 * 3 * 4 * p.height * p.width)
    if side == 8192 and device == "cuda" and free > GB:
        assert len(tiles.grid(6144, 8192, int(window ** 0.5))) <= 6    # a big GPU: few, big windows
    if side == 8192 and device == "cpu":
        assert len(tiles.grid(6144, 8192, int(window ** 0.5))) >= 100  # a CPU: small windows


def test_auto_goes_on_where_the_measured_speed_finishes_within_minutes_and_a_gpu_always():
    settings = check_settings({})
    passes = plan.full_passes((384, 512), (1536, 2048), [(1014, 1280)], settings)
    job = types.SimpleNamespace(settings=settings, runtime=types.SimpleNamespace(device=torch.device("cpu")),
                                seconds_per_pixel_step=2e-6)    # a fast CPU: ~1 min
    assert fine.skip_reason(job, passes) == ""
    job.seconds_per_pixel_step = 1e-4                             # a slow one: ~20 min
    reason = fine.skip_reason(job, passes)
    assert "full resolution (2048x1536) would take about" in reason and "Finish at Full Resolution" in reason
    job.settings = check_settings({"resolution": "full"})
    assert fine.skip_reason(job, passes) == ""                    # asked for: it goes on
    job.settings, job.runtime.device = settings, torch.device("cuda")
    assert fine.skip_reason(job, passes) == ""


def run(vgg, runtime, content, style, **settings):
    return list(engine.stylize(vgg, runtime, content, [(style, 1.0)],
                               dict({"size": 128, "steps": 20, "resolution": "full"}, **settings)))


def test_a_full_resolution_run_paints_the_layer_at_its_own_size_pass_by_pass(vgg, runtime):
    content, style = load("chelsea.png"), load("starry_night_google.jpg")
    progress = run(vgg, runtime, content, style)
    stages = [p.stage for p in progress]
    first = stages.index("working size done")
    assert progress[first].image.shape == content.shape          # the working result at the layer's size first
    full = [p for p in progress if p.stage.startswith("full resolution")]
    assert [p.stage for p in full] == ["full resolution 256x170 (pass 1 of 2)"] * 10 + \
        ["full resolution 451x300 (pass 2 of 2)"] * 10
    assert all(p.image is not None for p in full)                 # a preview after every step
    assert full[-1].image.shape == content.shape
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and progress[-1].fraction == 1.0 and 0 < fractions[first] < 0.5
    result = progress[-1]
    assert result.done and result.full and result.image.shape == content.shape
    assert result.working.result.shape[-2:] == (85, 128)          # warm starts remember the working size
    # The passes re-painted the detail: not the working result scaled up with the photo's detail added.
    upscaled = images.upscale(result.working.result, content, 1.0)
    assert (result.image - upscaled).abs().mean() > 0.03
    # and kept the look: seen at the working size, the result is still the working result
    seen = images.resize(result.image, 85, 128)
    assert (seen - result.working.result).abs().mean() < 0.05
    working_only = run(vgg, runtime, content, style, resolution="working")
    assert not any(p.stage.startswith("full") for p in working_only) and not working_only[-1].full


def test_a_cancel_in_a_pass_ends_the_run_without_a_result_after_a_preview_of_that_pass(vgg, runtime):
    content, style = load("chelsea.png"), load("starry_night_google.jpg")
    seen = []

    def stop():
        return len([s for s in seen if s.startswith("full resolution 451")]) >= 2
    out = []
    for p in engine.stylize(vgg, runtime, content, [(style, 1.0)], {"size": 128, "steps": 10, "resolution": "full"},
                            stop):
        seen.append(p.stage)
        out.append(p)
    assert not out[-1].done and out[-1].image.shape == content.shape   # the last preview: the pass's latest


def test_finish_skips_the_working_scales_and_starts_from_the_given_result(vgg, runtime):
    content, style = load("chelsea.png"), load("starry_night_google.jpg")
    earlier = images.upscale(images.resize(content, 85, 128), content, 0.0)
    progress = list(engine.stylize(vgg, runtime, content, [(style, 1.0)], {"size": 128, "resolution": "full"},
                                   finish=earlier))
    assert progress[0].stage == "working size done" and progress[1].stage.startswith("full resolution 256x170")
    assert progress[-1].done and progress[-1].full and progress[-1].total == 20
