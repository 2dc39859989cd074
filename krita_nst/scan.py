"""A layer's pixels checksummed a band of rows at a time: what live mode polls for changes.

Krita has no pixel-change signal for Python, and reading a whole big layer holds its UI thread
(4096x3072 px: ~90 ms at 8 bits, ~200 ms at 16, measured in Krita 5.1).  So each poll reads one
band of at most BAND_BYTES, in turn, plus the band that changed last: the artist is most likely
still painting there, and the pause after a stroke is seen there at once.  A small layer is one band.
What it reads can be kept (`keep`): live mode keeps the content reduced from these reads.
Krita-free: it reads pixels through a function (layers.scanner gives it Krita's).
"""

import zlib
from typing import Any, Callable, List, Optional

BAND_BYTES = 8 << 20   # a poll of a 4096x3072 layer: 9-25 ms in Krita 5.1 (16/8-bit), checksum included


class BandScan:
    """Checksums of the rows of (x, y, width, height), one band a poll; `changes` counts the changes seen."""

    def __init__(self, read: Callable[[int, int, int, int], bytes], x: int, y: int, width: int, height: int,
                 pixel_bytes: int, band_bytes: int = BAND_BYTES,
                 keep: Any = None) -> None:
        """keep.put(top, rows, pixels) is given every band read that differs from the last (top counted from
        y): a pixels.Reduced, for one."""
        self.read, self.x, self.y, self.width, self.keep = read, x, y, width, keep
        rows = max(1, min(height, band_bytes // max(1, width * pixel_bytes)))
        self.bands = [(top, min(rows, y + height - top)) for top in range(y, y + height, rows)]
        # A full first pass: a change is a difference from what the first update exported.
        self.sums: List[Optional[int]] = [None] * len(self.bands)
        for band in range(len(self.bands)):
            self._changed(band)
        self.changes, self.next = 0, 0
        self.hot: Optional[int] = None   # the band that changed last

    def _changed(self, band: int) -> bool:
        """Read the band and checksum it: whether it changed."""
        top, rows = self.bands[band]
        data = self.read(self.x, top, self.width, rows)
        checksum = zlib.crc32(data)
        if checksum == self.sums[band]:
            return False
        self.sums[band] = checksum
        if self.keep is not None:
            self.keep.put(top - self.y, rows, data)
        return True

    def poll(self) -> int:
        """Check the next band in turn and the one that changed last; the number of changes seen so far."""
        for band in {self.next, self.hot if self.hot is not None else self.next}:
            if self._changed(band):
                self.hot = band
                self.changes += 1
        self.next = (self.next + 1) % len(self.bands)
        return self.changes
