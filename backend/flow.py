"""Optical flow between two content frames, warping by it, and where it can be trusted (animation).

The flow is OpenCV's DIS (Kroeger et al. 2016: fast, no model to download), or Farneback's where an
OpenCV build lacks DIS.  A flow is an HxWx2 float32 array of pixel offsets (dx, dy) with
a(p) ~ b(p + flow(p)) for `flow(a, b)`: so `warp(b_image, flow(a, b))` is b's picture seen from a.
"""

from typing import Any, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .errors import InputError

cv2: Any
try:
    import cv2
except ImportError:   # reported when an animation asks for it, not at the backend's start
    cv2 = None

FLOW_SIDE = 1024   # frames are measured at most this long side (DIS at 4K costs seconds, adds nothing)
# Ruder, Dosovitskiy and Brox (2016), section 3.2: forward-backward disagreement and motion boundaries.
CONSISTENT = (0.01, 0.5)       # |w + w'|^2 > 0.01 (|w|^2 + |w'|^2) + 0.5: occluded or wrong
BOUNDARY = (0.01, 0.002)       # |grad u|^2 + |grad v|^2 > 0.01 |w|^2 + 0.002: a motion boundary


def _gray(rgb: torch.Tensor) -> np.ndarray:
    """A 1x3xHxW RGB tensor in 0-1 as 8-bit luma, what the flow methods take."""
    y = 0.299 * rgb[0, 0] + 0.587 * rgb[0, 1] + 0.114 * rgb[0, 2]
    return y.clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()


def method() -> str:
    """Which flow `flow` computes here: "dis", "farneback", or "" when OpenCV is missing."""
    if cv2 is None:
        return ""
    return "dis" if hasattr(cv2, "DISOpticalFlow_create") else "farneback"


def flow(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """The flow from frame a to frame b (1x3xHxW RGB in 0-1, the same size): a(p) ~ b(p + flow(p))."""
    if a.shape != b.shape:
        raise InputError("frames must all be one size to follow motion between them: %dx%d then %dx%d px"
                         % (a.shape[-1], a.shape[-2], b.shape[-1], b.shape[-2]))
    if not method():
        raise InputError("animation needs OpenCV for its optical flow: install it into the backend's venv "
                         "(.venv/bin/pip install -r backend/requirements.txt)")
    h, w = a.shape[-2:]
    scale = min(1.0, FLOW_SIDE / max(h, w))
    ga, gb = _gray(a), _gray(b)
    if scale < 1.0:
        size = (max(16, round(w * scale)), max(16, round(h * scale)))
        ga, gb = (cv2.resize(g, size, interpolation=cv2.INTER_AREA) for g in (ga, gb))
    if method() == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        f = dis.calc(ga, gb, None)
    else:
        f = cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 4, 21, 5, 7, 1.5, 0)
    if scale < 1.0:   # back to the frame's size, offsets in its pixels
        f = cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR)
        f[..., 0] *= w / ga.shape[1]
        f[..., 1] *= h / ga.shape[0]
    return np.ascontiguousarray(f, dtype=np.float32)


def _grid(w: np.ndarray) -> torch.Tensor:
    """grid_sample's 1xHxWx2 grid of the points p + w(p) (align_corners=True: -1 and 1 are pixel centres)."""
    h, wd = w.shape[:2]
    ys, xs = np.mgrid[0:h, 0:wd].astype(np.float32)
    gx = (xs + w[..., 0]) * (2.0 / max(1, wd - 1)) - 1.0
    gy = (ys + w[..., 1]) * (2.0 / max(1, h - 1)) - 1.0
    return torch.from_numpy(np.stack([gx, gy], -1)).unsqueeze(0)


def warp(image: torch.Tensor, w: np.ndarray) -> torch.Tensor:
    """image (1xCxHxW) sampled at p + w(p) for every pixel p, bilinear; outside the frame, its edge."""
    if image.shape[-2:] != w.shape[:2]:
        raise ValueError("a %dx%d flow cannot warp a %dx%d image" % (w.shape[1], w.shape[0], image.shape[-1],
                                                                    image.shape[-2]))
    grid = _grid(w).to(image.device)
    return F.grid_sample(image.float(), grid, mode="bilinear", padding_mode="border", align_corners=True)


def consistency(backward: np.ndarray, forward: np.ndarray, boundaries: bool = True) -> torch.Tensor:
    """Where a warped frame can be trusted: 1x1xHxW, 1 trusted, 0 not (Ruder et al.'s c).

    backward: flow(current, previous), which warps the previous frame's result to the current frame;
    forward: flow(previous, current).  A pixel is not trusted when following the backward flow and then
    the forward flow does not come back (it was occluded in the previous frame, or the flow is wrong),
    when it lands outside the previous frame, or (boundaries) on a motion boundary.
    """
    h, wd = backward.shape[:2]
    w = backward
    back = warp(torch.from_numpy(forward).permute(2, 0, 1).unsqueeze(0), w)[0].permute(1, 2, 0).numpy()
    square = lambda f: (f ** 2).sum(-1)  # noqa: E731
    a, b = CONSISTENT
    bad = square(w + back) > a * (square(w) + square(back)) + b
    if boundaries:
        du_dy, du_dx = np.gradient(w[..., 0])
        dv_dy, dv_dx = np.gradient(w[..., 1])
        a, b = BOUNDARY
        bad |= du_dx ** 2 + du_dy ** 2 + dv_dx ** 2 + dv_dy ** 2 > a * square(w) + b
    ys, xs = np.mgrid[0:h, 0:wd].astype(np.float32)
    x, y = xs + w[..., 0], ys + w[..., 1]
    bad |= (x < 0) | (x > wd - 1) | (y < 0) | (y > h - 1)
    return torch.from_numpy((~bad).astype(np.float32)).view(1, 1, h, wd)


def between(previous: torch.Tensor, current: torch.Tensor,
            result: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """(previous frame's result warped to the current frame, its consistency mask)."""
    backward, forward = flow(current, previous), flow(previous, current)
    image = previous if result is None else result
    return warp(image, backward).clamp(0, 1), consistency(backward, forward)
