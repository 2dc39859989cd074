"""The time estimate the docker shows before a run: learned from cold runs, per device."""

import math

from krita_nst import estimate


def test_learns_seconds_per_step_and_megapixel_per_device():
    speeds = {}
    assert estimate.seconds(speeds, "cpu, bf16", 512 * 512, 100) is None
    estimate.learn(speeds, "cpu, bf16", 512 * 341 * 100, 20.0)
    first = estimate.seconds(speeds, "cpu, bf16", 512 * 341, 100)
    assert math.isclose(first, 20.0)
    assert math.isclose(estimate.seconds(speeds, "cpu, bf16", 512 * 341, 50), 10.0)   # half the steps
    estimate.learn(speeds, "cpu, bf16", 512 * 341 * 100, 30.0)   # a slower run moves it halfway
    assert math.isclose(estimate.seconds(speeds, "cpu, bf16", 512 * 341, 100), 25.0)
    assert estimate.seconds(speeds, "cuda (NVIDIA H100), bf16", 512 * 341, 100) is None
    for bad in (0.0, math.nan, math.inf, -1.0):
        estimate.learn(speeds, "cpu, bf16", 512 * 341 * 100, bad)
    assert math.isclose(estimate.seconds(speeds, "cpu, bf16", 512 * 341, 100), 25.0)
    assert estimate.describe(None).startswith("time: known after")
    assert estimate.describe(24.6) == "about 25 s" and estimate.describe(600) == "about 10 min"


def test_live_mode_works_smaller_on_a_cpu_that_the_runs_so_far_show_to_be_slow():
    # The figures of 2026-12-01 in Krita 5.1, chelsea (451x300) at 256 px, 300 steps planned: a cold
    # run took 26.5 s on an AVX2-only 2-core CPU; the warm update after it 7.8 s (WARM_STEPS).
    slow, fast = {}, {}
    estimate.learn(slow, "cpu, fp32", 256 * 170 * 300, 26.5)
    estimate.learn(fast, "cpu, bf16", 256 * 170 * 300, 26.5 / 3.5)   # the AVX-512 machine's steps
    assert estimate.fitting_size({}, "cpu, fp32", 451, 300, 3.5, 256) == 256, "no run yet: the default"
    assert estimate.fitting_size(fast, "cpu, bf16", 451, 300, 3.5, 256) == 256
    size = estimate.fitting_size(slow, "cpu, fp32", 451, 300, 3.5, 256)
    assert size == 160, size
    w, h = estimate.working_size(451, 300, size)
    assert estimate.seconds(slow, "cpu, fp32", w * h, estimate.WARM_STEPS) <= 3.5
    assert estimate.fitting_size(slow, "cpu, fp32", 451, 300, 0.01, 256) == 128, "never below the smallest"
    assert estimate.fitting_size(slow, "cpu, fp32", 120, 80, 3.5, 256) == 256, "a small layer is its own size"
