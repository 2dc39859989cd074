"""What a run reports after each step, and how much of its work is done (steps cost by their size)."""

import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import torch

from krita_nst.core.sizes import FULL_COST

CLOCK = time.perf_counter   # the tests measure with process_time: a busy machine does not move the figures


@dataclass
class Progress:
    step: int
    total: int
    stage: str
    losses: Dict[str, float]
    image: Optional[torch.Tensor] = None     # 1x3xHxW RGB in 0-1: a preview, or the result when done
    done: bool = False
    seconds: float = 0.0
    note: str = ""                           # something the artist should know (e.g. size lowered)
    warm: bool = False                       # started from a previous run's result (see warm.py)
    working: Optional[Any] = None            # when done: a warm.Working of the run, for a later warm start
    fraction: float = 0.0                    # of the run's work done: steps weighed by their cost
    full: bool = False                       # when done: the result was painted at the content's own size


class Work:
    """The fraction of a run's time that is behind it, from the time its steps took and will take.

    A step's cost grows with its scale's pixels (steps at 2048 px cost 16 times those at 512): counted
    in steps, a run's halfway mark would come at a tenth of its time.  The steps still to come are
    priced at the seconds per pixel-step measured on the latest scale of their kind (working or full
    resolution); before a full-resolution step has run, at FULL_COST times the working rate.
    """

    def __init__(self) -> None:
        self.scales: List[Any] = []
        self.done: Dict[int, int] = {}
        self.seconds = 0.0
        self.rates: Dict[bool, float] = {}        # full?: seconds per pixel-step, the latest measured
        self.shown = 0.0
        self.last = CLOCK()

    def plan(self, scales) -> None:
        self.scales += list(scales)
        self.last = CLOCK()

    def drop(self, scales) -> None:
        """Scales planned that will not run (e.g. full resolution skipped)."""
        gone = {id(s) for s in scales}
        self.scales = [s for s in self.scales if id(s) not in gone]

    def did(self, scale, steps=1, timed=True) -> None:
        """`steps` of `scale` are done; timed: they took the time since the last call (a plateau's skip: not)."""
        now = CLOCK()
        self.done[id(scale)] = self.done.get(id(scale), 0) + steps
        if timed:
            seconds, self.last = now - self.last, now
            self.seconds += seconds
            self.rates[scale.full] = seconds / (steps * scale.height * scale.width)

    def _rate(self, full) -> float:
        if full in self.rates:
            return self.rates[full]
        if full and False in self.rates:
            return self.rates[False] * FULL_COST
        return 0.0

    @property
    def fraction(self) -> float:
        left = sum(max(0, s.steps - self.done.get(id(s), 0)) * s.height * s.width * self._rate(s.full)
                   for s in self.scales)
        now = self.seconds / (self.seconds + left) if self.seconds > 0 else 0.0
        self.shown = max(self.shown, now) if left > 0 or now < 1 else now   # a bar never runs backwards
        return self.shown
