"""The VGG19 feature extractor: weights on disk, its layers, pooling per call."""

import pytest
import torch

from backend import engine, images
from backend.model import WeightsError, load_vgg19
from helpers import sample


def test_torchvision_format_weights_load_with_their_preprocessing(tmp_path, vgg):
    # A torchvision-layout state dict (features.N.weight/bias) built from the bundled convolutions.
    indices = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    full = load_vgg19(None)
    state = {}
    for i, conv in zip(indices, full.convs.values()):
        state["features.%d.weight" % i] = conv.weight.detach().clone()
        state["features.%d.bias" % i] = conv.bias.detach().clone()
    path = tmp_path / "vgg19_tv.pth"
    torch.save(state, path)
    tv = load_vgg19(str(path), engine.ALL_LAYERS)
    assert not tv.preprocess.flip and tv.preprocess.std[0, 0, 0, 0].item() == pytest.approx(0.229)
    x = torch.rand(1, 3, 64, 64)
    assert tv(x, [engine.CONTENT_LAYER], "avg")[engine.CONTENT_LAYER].shape == (1, 512, 8, 8)
    bad = tmp_path / "bad.pth"
    torch.save({"something": torch.zeros(1)}, bad)
    with pytest.raises(WeightsError, match="neither"):
        load_vgg19(str(bad))
    with pytest.raises(WeightsError, match="not found"):
        load_vgg19(str(tmp_path / "missing.bin"))


def test_the_model_is_cut_after_the_deepest_layer_asked_for():
    assert list(load_vgg19(None, ["relu2_1"]).convs) == ["conv1_1", "conv1_2", "conv2_1"]
    with pytest.raises(ValueError, match="unknown VGG19 layer"):
        load_vgg19(None, ["relu9_1"])


def test_pooling_is_chosen_per_call_and_leaves_the_shared_model_as_it_was(vgg):
    photo = images.scale_to(images.from_wire(images.load_file(sample("chelsea.png")))[0], 96)
    with torch.no_grad():
        avg = vgg(photo, ["relu3_1", "relu1_1"], "avg")
        top = vgg(photo, ["relu3_1"], "max")["relu3_1"]
        again = vgg(photo, ["relu3_1"], "avg")["relu3_1"]
    assert set(avg) == {"relu3_1", "relu1_1"} and avg["relu1_1"].shape[-2:] == photo.shape[-2:]
    assert avg["relu3_1"].shape == top.shape == (1, 256, photo.shape[-2] // 4, photo.shape[-1] // 4)
    # Max pooling keeps each window's strongest response: on a photo its features are larger throughout.
    assert float(top.mean()) > 1.05 * float(avg["relu3_1"].mean())
    assert torch.equal(again, avg["relu3_1"])
    with pytest.raises(ValueError, match="pooling"):
        vgg(photo, ["relu1_1"], "median")


def test_check_is_called_between_layers_forward_and_backward(vgg):
    calls = []
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    features = vgg(x, ["relu2_1"], "avg", lambda: calls.append(1))
    forward = len(calls)
    assert forward == 3   # before each of conv1_1, conv1_2, conv2_1
    features["relu2_1"].sum().backward()
    assert len(calls) > forward
