"""One job, from wire images to wire images: shared by the server and the CLI."""

from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import torch

from krita_nst.settings import check_settings
from krita_nst.wire import Image

from . import device, engine, images
from .device import Runtime
from .engine import InputError
from .model import VGG19Features

MAX_PIXELS = 64 * 1024 * 1024   # 8192 x 8192: bigger layers get a clear refusal, not an allocation failure
# Working memory per pixel of the finest scale (VGG19 activations kept for the backward pass),
# measured with benchmarks/compare.py: ~2000 B/px in bf16 on the CPU; fp32 needs about twice that.
BYTES_PER_PIXEL = {"reduced": 2200, "fp32": 4000}
HEADROOM = 0.7                  # leave the rest of the free memory to Krita and the system


def working_pixel_budget(runtime):
    """The most pixels the finest scale may have on this device now (None: unknown, no cap)."""
    free = device.available_bytes(runtime)
    if free is None:
        return None
    per_pixel = BYTES_PER_PIXEL["fp32" if runtime.dtype == torch.float32 else "reduced"]
    return max(64 * 64, int(free * HEADROOM / per_pixel))


def _check_image(image, what):
    if not isinstance(image, Image):
        raise InputError("%s is missing or is not an image" % what)
    if image.width * image.height > MAX_PIXELS:
        raise InputError("%s is %dx%d px, more than this backend takes (%d megapixels); crop or scale it down"
                         % (what, image.width, image.height, MAX_PIXELS // (1024 * 1024)))


def run(model: VGG19Features, runtime: Runtime, content: Image, styles: List[Tuple[Image, float]],
        settings: Dict[str, Any], should_stop: Callable[[], bool] = lambda: False,
        ) -> Iterator[Tuple[engine.Progress, Optional[Image]]]:
    """Yield (engine.Progress, wire Image or None); the image is a preview, or the result when done.

    content: wire Image.  styles: [(wire Image, weight)].  Output images have the content's layout
    and, for the result, its size; previews have the working size of their scale.
    """
    settings = check_settings(settings)
    _check_image(content, "the content image")
    for i, (style, _) in enumerate(styles):
        _check_image(style, "style image %d" % (i + 1))
    rgb, alpha = images.from_wire(content)
    if alpha is not None and float(alpha.max()) == 0.0:
        raise InputError("the content layer is fully transparent: there is nothing to stylise")
    style_tensors = [(images.from_wire(s)[0], w) for s, w in styles]
    model.pooling = settings["pooling"]
    for progress in engine.stylize(model, runtime, rgb, style_tensors, settings, should_stop,
                                   max_pixels=working_pixel_budget(runtime)):
        image = None
        if progress.image is not None:
            h, w = progress.image.shape[-2:]
            a = None if alpha is None else images.resize(alpha, h, w)
            image = images.to_wire(progress.image, a, content.format)
        yield progress, image
