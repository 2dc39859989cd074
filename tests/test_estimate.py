"""The time estimate the docker shows before a run: learned from cold runs, per device."""

import math

from backend import plan
from krita_nst import estimate
from krita_nst.settings import check_settings


def test_the_working_size_never_exceeds_the_layer():
    assert estimate.working_size(2400, 1600, 512) == (512, 341)
    assert estimate.working_size(200, 150, 512) == (200, 150)
    assert estimate.working_size(150, 200, 200) == (150, 200) and estimate.working_size(150, 200, 100) == (75, 100)


def test_the_working_size_is_the_one_the_backend_plans():
    # The plugin cannot import the backend: the two statements of the rule must agree.
    for width, height in ((2400, 1600), (451, 300), (200, 150), (1000, 300), (4096, 4096), (333, 777)):
        for size in (64, 256, 512, 768, 2048):
            (h, w), _ = plan.top_size((height, width), check_settings({"size": size}))
            assert estimate.working_size(width, height, size) == (w, h), (width, height, size)


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
