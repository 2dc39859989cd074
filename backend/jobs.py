"""One job, from wire images to wire images: shared by the server and the CLI."""

from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import torch

from krita_nst.core.settings import check_settings
from krita_nst.core.wire import ENCODINGS, MAX_PIXELS, RAW, Image

from . import device, engine, images, warm
from .device import Runtime
from .errors import InputError
from .model import VGG19Features

# MAX_PIXELS (wire.MAX_PIXELS, 64 Mpx): bigger images are refused from the message header, before their pixels.
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


def _tensors(image, what):
    """A wire image's (rgb, alpha) tensors, or an InputError that names it."""
    if not isinstance(image, Image):
        raise InputError("%s is missing or is not an image" % what)
    if image.width * image.height > MAX_PIXELS:
        raise InputError("%s is %dx%d px, more than this backend takes (%d megapixels); crop or scale it down"
                         % (what, image.width, image.height, MAX_PIXELS // (1024 * 1024)))
    try:
        rgb, alpha = images.from_wire(image)
    except ValueError as exc:
        raise InputError("%s cannot be read: %s" % (what, exc)) from None
    if alpha is not None and float(alpha.max()) == 0.0:
        raise InputError("%s is fully transparent: there is nothing in it to use" % what)
    return rgb, alpha


def from_message(fields: Dict[str, Any]) -> Tuple[Any, List[Tuple[Any, Any]], Dict[str, Any]]:
    """A job message's (content, [(style image, weight)], settings), or an InputError naming what is wrong.

    Only the shape is checked here; the images, weights and settings themselves are checked by run().
    """
    styles = fields.get("styles")
    if not isinstance(styles, list):
        raise InputError("styles must be a list of {image, weight}, not %.100r" % (styles,))
    pairs = []
    for i, style in enumerate(styles):
        if not isinstance(style, dict):
            raise InputError("style %d must be an {image, weight} object, not %.100r" % (i + 1, style))
        unknown = sorted(set(style) - {"image", "weight"})
        if unknown:
            raise InputError("style %d has unknown field(s): %s" % (i + 1, ", ".join(map(str, unknown))))
        pairs.append((style.get("image"), style.get("weight", 1.0)))
    if fields.get("encoding", RAW) not in ENCODINGS:
        raise InputError("encoding must be one of %s, not %.100r" % (", ".join(ENCODINGS), fields.get("encoding")))
    settings = fields.get("settings")
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise InputError("settings must be an object of name: value, not %.100r" % (settings,))
    return fields.get("content"), pairs, settings


def run(model: VGG19Features, runtime: Runtime, content: Image, styles: List[Tuple[Image, float]],
        settings: Dict[str, Any], should_stop: Callable[[], bool] = lambda: False, encoding: str = RAW,
        key: Optional[str] = None, memory: Optional[warm.Memory] = None, start: Optional[Image] = None,
        ) -> Iterator[Tuple[engine.Progress, Optional[Image]]]:
    """Yield (engine.Progress, wire Image or None); the image is a preview, or the result when done.

    content: wire Image.  styles: [(wire Image, weight)], raw or PNG.  Output images have the content's
    layout (RGBA8 when encoding is PNG) and, for the result, its size; previews have the working size.
    key, memory: the content's thread of runs and the runs remembered (warm.py); progress.warm says
    whether this run started from the thread's last result.
    start: an earlier result of this content (its size): the run only finishes it at full resolution.
    """
    settings = check_settings(settings)
    key = warm.check_key(key)
    rgb, alpha = _tensors(content, "the content image")
    style_tensors = [(_tensors(style, "style image %d" % (i + 1))[0], weight)
                     for i, (style, weight) in enumerate(styles)]
    finish = None
    if start is not None:
        finish = _tensors(start, "the result to finish")[0]
        if finish.shape != rgb.shape:
            raise InputError("the result to finish is %dx%d px but the content is %dx%d: they must be the same size"
                             % (start.width, start.height, content.width, content.height))
    styles_id = warm.styles_identity(styles) if key and memory is not None else None
    previous = memory.recall(key, styles_id) if memory is not None and styles_id else None
    for progress in engine.stylize(model, runtime, rgb, style_tensors, settings, should_stop,
                                   max_pixels=working_pixel_budget(runtime), previous=previous, finish=finish):
        if progress.done and memory is not None and styles_id and progress.working is not None:
            memory.remember(key, styles_id, progress.working)
        image = None
        if progress.image is not None:
            h, w = progress.image.shape[-2:]
            a = None if alpha is None else images.resize(alpha, h, w)
            image = images.encoded(images.to_wire(progress.image, a, content.format), encoding)
        yield progress, image
