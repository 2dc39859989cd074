"""The working-size rule, once: the plugin's estimate and live mode, and the backend's plan use it."""

from typing import Tuple


def fit(width: int, height: int, longest: int) -> Tuple[int, int]:
    """(width, height) with the same aspect ratio and the longest side `longest` (each side at least 1)."""
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def working_size(width: int, height: int, size: int) -> Tuple[int, int]:
    """(width, height) the work is done at: the longest side at `size`, never above the layer's own."""
    return fit(width, height, min(size, max(width, height)))
