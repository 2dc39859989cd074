"""L-BFGS on one tensor, without line search: what torch.optim.LBFGS(lr=1, max_iter=1) does, with a known first step.

torch's L-BFGS knows nothing of the curvature on its first step and takes a blind one of total size
1/|g|_1: with hundreds of thousands of pixels the loss does not move, so the first step of every
scale was wasted.  Here the caller may pass `gamma` (the inverse curvature s'y/y'y seen at the end
of a previous scale or run, rescaled to this size): the first step is then a real one.
"""

from typing import Callable, List, Optional

import torch

HISTORY = 50


class LBFGS:
    def __init__(self, x: torch.Tensor, gamma: Optional[float] = None, history: int = HISTORY):
        self.x, self.gamma, self.history = x, gamma, history
        self._s: List[torch.Tensor] = []
        self._y: List[torch.Tensor] = []
        self._rho: List[float] = []
        self._prev_grad: Optional[torch.Tensor] = None
        self._prev_step: Optional[torch.Tensor] = None
        self._prev_loss = float("inf")
        self._guessed = False   # the last step was sized by a gamma from elsewhere, not seen here

    def _retreat(self):
        """Undo half of a guessed first step that raised the loss, and trust the guess half as much."""
        assert self._prev_step is not None and self.gamma is not None
        self._prev_step.mul_(0.5)
        with torch.no_grad():
            self.x.sub_(self._prev_step.view_as(self.x).to(self.x.dtype))
        self.gamma *= 0.5

    def step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Evaluate closure() (loss with x.grad filled in) at x, then move x; returns that loss."""
        loss = closure()
        assert self.x.grad is not None, "the closure must call backward()"
        if self._guessed and float(loss.detach()) > self._prev_loss:
            self._retreat()
            return loss
        self._prev_loss = float(loss.detach())
        g = self.x.grad.detach().reshape(-1).float()
        if self._prev_grad is not None and self._prev_step is not None:
            y = g - self._prev_grad
            ys = float(y.dot(self._prev_step))
            if ys > 1e-10:  # keep the approximation positive definite
                if len(self._s) == self.history:
                    del self._s[0], self._y[0], self._rho[0]
                self._s.append(self._prev_step)
                self._y.append(y)
                self._rho.append(1.0 / ys)
                self.gamma = ys / float(y.dot(y))
        if self.gamma is None:  # nothing known yet: torch's cautious first step
            d = g.neg().mul_(min(1.0, 1.0 / float(g.abs().sum())))
        else:
            d = self._direction(g)
        with torch.no_grad():
            self.x.add_(d.view_as(self.x).to(self.x.dtype))
        self._prev_grad, self._prev_step = g, d
        self._guessed = not self._s and self.gamma is not None
        return loss

    def _direction(self, g):
        """The two-loop recursion: -H g with H the inverse Hessian approximation, H0 = gamma I."""
        q = g.neg()
        alphas = []
        for s, y, rho in zip(reversed(self._s), reversed(self._y), reversed(self._rho)):
            a = rho * float(s.dot(q))
            q.add_(y, alpha=-a)
            alphas.append(a)
        q.mul_(self.gamma)
        for s, y, rho, a in zip(self._s, self._y, self._rho, reversed(alphas)):
            b = rho * float(y.dot(q))
            q.add_(s, alpha=a - b)
        return q
