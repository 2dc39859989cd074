"""The time estimate the docker shows before a run: learned from cold runs, per device."""

import math

from krita_nst import estimate


def test_the_working_size_never_exceeds_the_layer():
    assert estimate.working_size(2400, 1600, 512) == (512, 341)
    assert estimate.working_size(200, 150, 512) == (200, 150)
    assert estimate.working_size(150, 200, 200) == (150, 200) and estimate.working_size(150, 200, 100) == (75, 100)


def test_learns_seconds_per_step_and_megapixel_per_device():
    speeds = {}
    assert estimate.seconds(speeds, "cpu, bf16", 512 * 512, 100) is None
    estimate.learn(speeds, "cpu, bf16", 512 * 341, 100, 20.0)
    first = estimate.seconds(speeds, "cpu, bf16", 512 * 341, 100)
    assert math.isclose(first, 20.0)
    assert math.isclose(estimate.seconds(speeds, "cpu, bf16", 512 * 341, 50), 10.0)   # half the steps
    estimate.learn(speeds, "cpu, bf16", 512 * 341, 100, 30.0)   # a slower run moves it halfway
    assert math.isclose(estimate.seconds(speeds, "cpu, bf16", 512 * 341, 100), 25.0)
    assert estimate.seconds(speeds, "cuda (NVIDIA H100), bf16", 512 * 341, 100) is None
    for bad in (0.0, math.nan, math.inf, -1.0):
        estimate.learn(speeds, "cpu, bf16", 512 * 341, 100, bad)
    assert math.isclose(estimate.seconds(speeds, "cpu, bf16", 512 * 341, 100), 25.0)
    assert estimate.describe(None).startswith("time: known after")
    assert estimate.describe(24.6) == "about 25 s" and estimate.describe(600) == "about 10 min"
