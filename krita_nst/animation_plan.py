"""Which frames of an animation are stylised: one per keyframe, held as the keyframe is (pure standard library).

Krita holds a keyframe until the next one, so a held frame is one keyframe and is stylised once; a
blank keyframe (nothing drawn) stays blank in the result and is not sent.  The backend's CLI uses the
same plan for a folder of frame files, where a file equal to the one before is a hold.
"""

from typing import Iterable, List, NamedTuple, Sequence, Tuple


class Frame(NamedTuple):
    time: int      # the keyframe's time: the result's keyframe goes there
    until: int     # the last time it shows (the next keyframe's time - 1, or the range's end)
    empty: bool    # nothing drawn: the result's keyframe is blank too, nothing is stylised


def plan(keyframes: Iterable[Tuple[int, bool]], start: int, end: int) -> List[Frame]:
    """The frames to make for a layer whose keyframes are (time, empty) pairs, over times start..end.

    The keyframe showing at `start` counts even when it begins before it (it keeps its own time);
    keyframes after `end` do not.  Times are whole frames; a time given twice is one keyframe.
    """
    if start > end:
        raise ValueError("the animation range starts at frame %d, after its end at %d" % (start, end))
    times = sorted({time: empty for time, empty in keyframes}.items())
    showing = [i for i, (time, _) in enumerate(times) if time <= start]
    first = showing[-1] if showing else 0
    chosen = [(time, empty) for time, empty in times[first:] if time <= end]
    return [Frame(time, (chosen[i + 1][0] - 1) if i + 1 < len(chosen) else end, empty)
            for i, (time, empty) in enumerate(chosen)]


def of_sequence(frames: Sequence[bytes], empty: Sequence[bool]) -> List[Frame]:
    """The plan of a sequence of frame images (their pixels, and whether each has none): a frame equal to
    the one before it is held."""
    keys = [(i, empty[i]) for i in range(len(frames)) if i == 0 or frames[i] != frames[i - 1]]
    return plan(keys, 0, len(frames) - 1) if frames else []
