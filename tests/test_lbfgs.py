"""L-BFGS on the real objective: torch's steps when nothing is known, a real first step when gamma is."""

import pytest
import torch

from backend import device, engine, images, losses
from backend.lbfgs import LBFGS
from helpers import sample


@pytest.fixture(scope="module")
def problem(vgg):
    """A closure factory for the real loss of a 64 px chelsea against Starry Night, in fp32 (exact comparisons)."""
    runtime = device.choose("cpu", "fp32")
    load = lambda name: images.scale_to(images.from_wire(images.load_file(sample(name)))[0], 64)  # noqa: E731
    content, style = load("chelsea.png"), load("starry_night_google.jpg")
    features = engine.content_target(vgg, runtime, content, lambda: None)
    grams = engine.style_targets(vgg, runtime, [style], [1.0], [tuple(style.shape[-2:])], lambda: None)
    content_scale, layer_weights = losses.balance(features, grams, engine.STYLE_LAYER_WEIGHTS)
    weights = (content_scale, layer_weights, losses.style_weight(50), engine.TV_SCALE)

    def closure_of(x):
        def closure():
            x.grad = None
            loss, _ = engine.objective(vgg, runtime, x, features, grams, weights)
            loss.backward()
            return loss
        return closure
    return content, closure_of


def test_without_a_gamma_it_takes_torchs_steps(problem):
    content, closure_of = problem
    ours, theirs = (content.clone().requires_grad_(True) for _ in range(2))
    mine = LBFGS(ours)
    torchs = torch.optim.LBFGS([theirs], lr=1, max_iter=1, history_size=50, tolerance_grad=0, tolerance_change=0)
    for _ in range(6):
        a, b = float(mine.step(closure_of(ours)).detach()), float(torchs.step(closure_of(theirs)).detach())
        assert a == pytest.approx(b, rel=1e-4)
    assert torch.allclose(ours, theirs, atol=1e-4) and not torch.allclose(ours, content, atol=1e-3)


def test_a_known_gamma_makes_the_first_step_count_and_a_bad_one_is_halved_back(problem):
    content, closure_of = problem
    x = content.clone().requires_grad_(True)
    warm = LBFGS(x)
    for _ in range(8):
        warm.step(closure_of(x))
    start = x.detach().clone()

    def first_drop(gamma):
        y = start.clone().requires_grad_(True)
        optimizer = LBFGS(y, gamma)
        before = float(optimizer.step(closure_of(y)).detach())
        return before - float(closure_of(y)()), optimizer, y

    cautious, _, _ = first_drop(None)
    known, _, _ = first_drop(warm.gamma)
    assert known > 10 * max(cautious, 0.0) and known > 0, (known, cautious)
    # A hundred times too long a first step raises the loss: the next step undoes half of it.
    _, optimizer, y = first_drop(100 * warm.gamma)
    moved = float((y.detach() - start).abs().sum())
    optimizer.step(closure_of(y))
    assert optimizer.gamma == pytest.approx(50 * warm.gamma)
    assert float((y.detach() - start).abs().sum()) == pytest.approx(moved / 2, rel=1e-3)
