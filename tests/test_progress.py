"""How much of a run is done (backend/progress.py): by the time its steps take, not by their count."""

import time

import pytest
import torch

from backend import engine, images, progress
from backend.plan import Scale
from helpers import sample


def test_the_fraction_prices_steps_by_their_pixels_and_their_measured_time(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(progress, "CLOCK", lambda: now[0])
    small, big, full = Scale(100, 100, 10), Scale(200, 200, 10), Scale(400, 400, 2, full=True)
    work = progress.Work()
    work.plan([small, big, full])
    assert work.fraction == 0.0
    for _ in range(10):          # 1 s a step at 100x100
        now[0] += 1.0
        work.did(small)
    # the rest priced at the same rate per pixel: 10 x 4 s at 200x200, 2 x 16 s x FULL_COST at 400x400
    rest = 40.0 + 2 * 16.0 * progress.FULL_COST
    first = work.fraction
    assert first == pytest.approx(10.0 / (10.0 + rest))
    now[0] += 8.0                # the first big step took twice what its pixels said: the rest is dearer,
    work.did(big)                # but the bar never runs backwards
    assert 18.0 / (18.0 + 9 * 8.0 + 2 * 32.0 * progress.FULL_COST) < first == work.fraction
    now[0] += 8.0
    work.did(big)
    assert work.fraction == pytest.approx(26.0 / (26.0 + 8 * 8.0 + 2 * 32.0 * progress.FULL_COST))
    work.did(big, 8, timed=False)   # a plateau ends the scale: its steps are done, not timed
    now[0] += 20.0               # a full-resolution step is measured: its own rate from now on
    work.did(full)
    assert work.fraction == pytest.approx(46.0 / (46.0 + 20.0))
    work.drop([full])
    assert work.fraction == 1.0


def test_the_time_left_at_a_quarter_half_and_three_quarters_is_within_a_quarter_of_what_it_took(vgg, runtime,
                                                                                                   monkeypatch):
    """A real full-resolution run (working scales 96 and 48 px, passes at 192 and 360 px: steps 1:4:16:56 in
    cost), measured in the process's CPU time on one thread (other processes' load does not count)."""
    monkeypatch.setattr(progress, "CLOCK", time.process_time)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # idle threads spinning would count as CPU time
    content = images.resize(images.from_wire(images.load_file(sample("coffee.png")))[0], 240, 360)
    style = images.from_wire(images.load_file(sample("starry_night_google.jpg")))[0]
    start, seen = time.process_time(), []
    try:
        for p in engine.stylize(vgg, runtime, content, [(style, 1.0)], {"size": 96, "steps": 30, "resolution": "full"}):
            seen.append((p.fraction, time.process_time() - start, p.stage))
    finally:
        torch.set_num_threads(threads)
    total = seen[-1][1]
    assert any(stage.startswith("full resolution 360x240") for _, _, stage in seen)
    for mark in (0.25, 0.5, 0.75):
        fraction, elapsed = next((f, t) for f, t, _ in seen if f >= mark)
        predicted, actual = elapsed / fraction * (1 - fraction), total - elapsed
        assert abs(predicted - actual) <= 0.25 * actual, (mark, fraction, elapsed, predicted, actual, total)
