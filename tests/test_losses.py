"""Loss terms against hand-computed values, and their gradients against finite differences."""

import pytest
import torch

from backend import engine, images, losses
from helpers import sample


def test_gram_by_hand():
    # One image, two channels, 2x2 pixels: F = [[1,2,3,4],[0,1,0,1]], M = 4.
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 1.0]]]])
    g = losses.gram(f)
    expected = torch.tensor([[30.0, 6.0], [6.0, 2.0]]) / 4
    assert torch.allclose(g[0], expected)


def test_layer_style_loss_is_the_papers_normalisation():
    # E = 1/(4 N^2 M^2) * sum (G - A)^2 with unnormalised Gram matrices G = F F^T.
    torch.manual_seed(0)
    f, target = torch.randn(1, 3, 4, 5), torch.randn(1, 3, 4, 5)
    n, m = 3, 20
    g_raw = f.reshape(3, m) @ f.reshape(3, m).T
    a_raw = target.reshape(3, m) @ target.reshape(3, m).T
    expected = ((g_raw - a_raw) ** 2).sum() / (4 * n ** 2 * m ** 2)
    assert torch.allclose(losses.layer_style_loss(f, losses.gram(target)), expected, rtol=1e-5)
    assert losses.layer_style_loss(target, losses.gram(target)).item() == pytest.approx(0.0, abs=1e-7)


def test_content_loss_by_hand():
    a = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    b = torch.tensor([[[[1.0, 0.0], [3.0, 6.0]]]])
    assert losses.content_loss(a, b).item() == pytest.approx(0.5 * (4 + 4) / 4)


def test_style_loss_weights_layers():
    torch.manual_seed(1)
    feats = {"a": torch.randn(1, 2, 3, 3), "b": torch.randn(1, 4, 2, 2)}
    targets = {"a": losses.gram(torch.randn(1, 2, 3, 3)), "b": losses.gram(torch.randn(1, 4, 2, 2))}
    total = losses.style_loss(feats, targets, {"a": 0.25, "b": 2.0})
    by_hand = 0.25 * losses.layer_style_loss(feats["a"], targets["a"]) + \
        2.0 * losses.layer_style_loss(feats["b"], targets["b"])
    assert torch.allclose(total, by_hand)


def test_tv_loss_by_hand():
    image = torch.tensor([[[[0.0, 1.0], [1.0, 1.0]]]])
    # vertical differences: (1-0), (1-1) -> mean of squares 0.5; horizontal: (1-0), (1-1) -> 0.5
    assert losses.tv_loss(image).item() == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["content", "style", "tv"])
def test_gradients_match_finite_differences(name):
    torch.manual_seed(2)
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    other = torch.randn(1, 2, 3, 3, dtype=torch.float64)

    def f(x):
        if name == "content":
            return losses.content_loss(x, other)
        if name == "style":
            return losses.layer_style_loss(x, losses.gram(other))
        return losses.tv_loss(x)
    assert torch.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_each_loss_term_is_relative_to_its_target(vgg):
    # All-zero features are exactly "one unit" away on the content term and on every style layer,
    # so that strength means the same on every image and no style layer drowns the others.
    content, style = (images.from_wire(images.load_file(sample(name)))[0]
                      for name in ("chelsea.png", "starry_night_google.jpg"))
    with torch.no_grad():
        p = vgg(content, [engine.CONTENT_LAYER], "avg")[engine.CONTENT_LAYER]
        grams = {n: losses.gram(f) for n, f in vgg(style, engine.STYLE_LAYERS, "avg").items()}
    content_scale, weights = losses.balance(p, grams, engine.STYLE_LAYER_WEIGHTS)
    assert content_scale * float(losses.content_loss(torch.zeros_like(p), p)) == pytest.approx(1.0)
    for name, target in grams.items():
        empty = weights[name] * float(losses.layer_style_loss_of_grams(torch.zeros_like(target), target))
        assert empty == pytest.approx(1.0 / len(engine.STYLE_LAYERS))


def test_strength_maps_to_a_style_weight_log_linearly():
    assert losses.style_weight(0) == 0.0 and losses.style_weight(-5) == 0.0
    assert losses.style_weight(50) == pytest.approx(10.0)
    assert losses.style_weight(60) / losses.style_weight(50) == pytest.approx(10 ** 0.5)
