"""An animation's frames stylised one after another, coherent from frame to frame (Ruder et al. 2016).

The first frame is an ordinary cold run.  Each next frame starts from the previous frame's result
warped to it by the optical flow between the two content frames (flow.py), and a temporal term holds
it near that warped picture wherever the flow can be trusted; it runs fewer steps, at the finest scale
only (a coarse scale would blur the start away).  `temporal` = 0 gives independent cold runs (to compare).
An empty frame (None) is skipped, and the frame after it starts cold: nothing carries across it.
"""

import math
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch

from krita_nst.core.settings import check_settings
from krita_nst.core.wire import Image

from . import engine, flow, images, jobs
from .device import Runtime
from .engine import Progress
from .errors import InputError
from .model import VGG19Features

# A following frame's steps, as a share of the setting's (of a cold run's): it starts from a result
# already, and only what moved or appeared needs the work.  Measured in benchmarks/animation.py.
FOLLOW_SHARE = 0.15
MIN_FOLLOW_STEPS = 5


def follow_steps(steps: int) -> int:
    return max(MIN_FOLLOW_STEPS, math.ceil(steps * FOLLOW_SHARE))


def check_frames(frames: Sequence[Optional[torch.Tensor]]) -> None:
    """InputError unless there is a frame to paint and every frame is the first one's size."""
    sizes = [(i, f.shape[-2:]) for i, f in enumerate(frames) if f is not None]
    if not sizes:
        raise InputError("the animation has no frame with anything in it to stylise")
    first = sizes[0][1]
    for i, size in sizes:
        if size != first:
            raise InputError("frame %d is %dx%d px, frame %d is %dx%d: the frames of an animation must be one size"
                             % (i + 1, size[1], size[0], sizes[0][0] + 1, first[1], first[0]))


def stylize(model: VGG19Features, runtime: Runtime, frames: Sequence[Optional[torch.Tensor]],
            styles: List[Tuple[torch.Tensor, float]], settings: Dict[str, Any],
            should_stop: Callable[[], bool] = lambda: False,
            max_pixels: Optional[int] = None) -> Iterator[Tuple[int, Progress]]:
    """Yield (frame index, Progress) for every step of every frame; each frame ends with its done Progress.

    frames: 1x3xHxW RGB in 0-1, or None for an empty frame (nothing is yielded for it).  When should_stop
    says True the run returns at once, after the frames already done.
    """
    settings = check_settings(settings)
    check_frames(frames)
    weight = settings["temporal"]
    previous: Optional[Tuple[torch.Tensor, torch.Tensor]] = None   # (content, result) of the frame before
    for index, content in enumerate(frames):
        if content is None:
            previous = None
            continue
        try:
            init = temporal = None
            frame_settings = settings
            if weight > 0 and previous is not None:
                target, mask = flow.between(previous[0], content, previous[1])
                init, temporal = target, engine.Temporal(target, mask, weight)
                frame_settings = dict(settings, steps=follow_steps(settings["steps"]), scales=1)
            done = None
            for progress in engine.stylize(model, runtime, content, styles, frame_settings, should_stop, max_pixels,
                                           init=init, temporal=temporal):
                if progress.done:
                    done = progress
                yield index, progress
            if done is None:   # stopped
                return
        except Exception as exc:   # say which frame: the rest of the message is the single run's
            exc.args = ("frame %d of %d: %s" % (index + 1, len(frames), exc),) + exc.args[1:]
            raise
        assert done.image is not None
        previous = (content, done.image)


def run(model: VGG19Features, runtime: Runtime, frames: Sequence[Optional[Image]], styles: List[Tuple[Image, float]],
        settings: Dict[str, Any], should_stop: Callable[[], bool] = lambda: False, encoding: str = "raw",
        ) -> Iterator[Tuple[int, Progress, Optional[Image]]]:
    """stylize() from wire images to wire images: yields (frame index, Progress, Image or None).

    The image is a preview, or the frame's result when progress.done, in the frame's layout (RGBA8 when
    encoding is PNG) with the frame's alpha.  Frames may be None (empty).
    """
    settings = check_settings(settings)
    decoded = [None if f is None else jobs._tensors(f, "frame %d" % (i + 1)) for i, f in enumerate(frames)]
    style_tensors = [(jobs._tensors(style, "style image %d" % (i + 1))[0], weight)
                     for i, (style, weight) in enumerate(styles)]
    rgbs = [None if d is None else d[0] for d in decoded]
    for index, progress in stylize(model, runtime, rgbs, style_tensors, settings, should_stop,
                                   jobs.working_pixel_budget(runtime)):
        image = None
        if progress.image is not None:
            frame, alpha = frames[index], decoded[index][1]   # type: ignore[index]
            assert frame is not None
            h, w = progress.image.shape[-2:]
            a = None if alpha is None else images.resize(alpha, h, w)
            image = images.encoded(images.to_wire(progress.image, a, frame.format), encoding)
        yield index, progress, image
