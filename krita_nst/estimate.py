"""How long a run will take on this device, learned from the runs so far (shown before a run).

Pure standard library.  The model is deliberately simple: seconds = k x steps x megapixels of the
working size, plus k x the full-resolution passes' work (core.sizes.full_work) when a run goes on to
the layer's own size, with k per device, an average of the cold runs seen (warm re-runs are faster
and would teach the wrong k).
"""

import math
from typing import Dict, Optional, Tuple

from .core.sizes import full_work, working_size

LEARNING = 0.5   # the weight of the newest run in k's running average
# A warm live update (a fixed short schedule, whatever `steps` says) costs about as much as this many
# of the planned steps k is learned per: 7.8 s against 26.5 s for a cold run of 300 at 256 px (Krita 5.1).
WARM_STEPS = 90


def learn(speeds: Dict[str, float], device: str, units: float, seconds: float) -> None:
    """Update k for device from a finished cold run of `units` working pixel-steps (pixels x steps + full_work)."""
    if not device or units <= 0 or not (seconds > 0 and math.isfinite(seconds)):
        return
    k = seconds / (units / 1e6)
    old = speeds.get(device)
    speeds[device] = k if old is None else (1 - LEARNING) * old + LEARNING * k


def seconds(speeds: Dict[str, float], device: str, pixels: int, steps: int) -> Optional[float]:
    """The estimate, or None before the first run on this device."""
    k = speeds.get(device)
    return None if k is None else k * steps * pixels / 1e6


def full_seconds(speeds: Dict[str, float], device: str, working: Tuple[int, int], layer: Tuple[int, int],
                 ) -> Optional[float]:
    """The full-resolution passes' time on top of the working run's (None before the first run)."""
    k = speeds.get(device)
    return None if k is None else k * full_work(working, layer) / 1e6


def describe(estimate: Optional[float]) -> str:
    if estimate is None:
        return "time: known after the first run"
    if estimate < 90:
        return "about %d s" % max(1, round(estimate))
    return "about %d min" % round(estimate / 60)


def fitting_size(speeds: Dict[str, float], device: str, width: int, height: int, budget: float, largest: int,
                 smallest: int = 128) -> int:
    """The biggest working size (longest side, from `largest` down to `smallest` by 32 px) whose warm
    update of a width x height area should take at most `budget` seconds; `largest` before any run."""
    size = largest
    while size > smallest:
        w, h = working_size(width, height, size)
        predicted = seconds(speeds, device, w * h, WARM_STEPS)
        if predicted is None or predicted <= budget:
            break
        size = max(smallest, size - 32)
    return size
