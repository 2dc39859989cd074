"""What a run reports after each step, and how much of its work is done (steps cost by their size)."""

from dataclasses import dataclass
from typing import Any, Dict, Optional

import torch

from krita_nst.core.sizes import FULL_COST


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
    """The run's work in pixel-steps, each weighed by what its step computes: the honest fraction done.

    Steps at 2048 px cost 16 times those at 512; counting steps, a run's halfway mark would come at a
    tenth of its time.
    """

    def __init__(self) -> None:
        self.total = 0.0
        self.done = 0.0

    @staticmethod
    def cost(scale, steps=None) -> float:
        return scale.height * scale.width * (scale.steps if steps is None else steps) \
            * (FULL_COST if scale.full else 1.0)

    def plan(self, scales) -> None:
        self.total += sum(self.cost(s) for s in scales)

    def drop(self, scales) -> None:
        """Scales planned that will not run (e.g. full resolution skipped)."""
        self.total -= sum(self.cost(s) for s in scales)

    def did(self, scale, steps=1) -> None:
        self.done += self.cost(scale, steps)

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0
