"""The server's `animate` message: an animation's frames as one job, a `frame` message as each is done.

The wire format is documented in krita_nst/core/wire.py.  Errors are raised to the server's job handler,
which answers as for a job; animation.stylize names the frame in them.
"""

import logging
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from krita_nst.core import wire

from . import animation, device, jobs
from .errors import InputError

log = logging.getLogger("krita_nst.backend")


def from_message(fields: Dict[str, Any]) -> Tuple[List[Optional[wire.Image]], List[Tuple[Any, Any]], Dict[str, Any]]:
    """An animate message's (frames, [(style image, weight)], settings), or an InputError naming what is wrong."""
    frames = fields.get("frames")
    if not isinstance(frames, list) or not frames:
        raise InputError("frames must be a list of images (null for an empty frame), not %.100r" % (frames,))
    for i, frame in enumerate(frames):
        if frame is not None and not isinstance(frame, wire.Image):
            raise InputError("frame %d must be an image or null, not %.100r" % (i + 1, frame))
    _, styles, settings = jobs.from_message(dict(fields, content=None))
    return frames, styles, settings


def run(message: wire.Message, model: Any, runtime: Any, stop: Callable[[], bool], writer: Any) -> None:
    """Run one animate message to its end: `frame` per frame done, then `result` (or `cancelled`)."""
    job_id = message.get("id")
    frames, styles, settings = from_message(message.fields)
    count, done, steps = len(frames), 0, 0
    began, meter = time.perf_counter(), device.MemoryMeter(runtime)
    losses: Dict[str, float] = {}
    for index, progress, image in animation.run(model, runtime, frames, styles, settings, stop,
                                                message.get("encoding", wire.RAW)):
        if progress.done:
            done, steps, losses = done + 1, steps + progress.step, progress.losses
            writer.send(wire.FRAME, id=job_id, frame=index, frames=count, image=image,
                        seconds=round(progress.seconds, 3), steps=progress.step, losses=progress.losses)
            log.info("animation %s: frame %d of %d done in %.1f s", job_id, index + 1, count, progress.seconds)
            continue
        writer.send(wire.PROGRESS, id=job_id, step=progress.step, total=progress.total, stage=progress.stage,
                    losses=progress.losses, seconds=round(progress.seconds, 3), warm=False, frame=index,
                    frames=count)
    seconds = round(time.perf_counter() - began, 3)
    if done < sum(f is not None for f in frames):
        writer.send(wire.CANCELLED, id=job_id, step=steps, frames=done)
        log.info("animation %s cancelled after %d of %d frames", job_id, done, count)
        return
    writer.send(wire.RESULT, id=job_id, frames=done, seconds=seconds, steps=steps, losses=losses,
                peak_memory_mib=meter.peak_mib, warm=False)
    log.info("animation %s: %d frames in %.1f s", job_id, done, seconds)
