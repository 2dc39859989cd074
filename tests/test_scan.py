"""Live mode's change detection (krita_nst/scan.py) over a layer's bytes: real pixels, a stand-in for Krita's read."""

import pytest

from helpers import sample
from krita_nst import pixels, scan
from krita_nst.qt import QCoreApplication


@pytest.fixture(scope="module", autouse=True)
def app():
    return QCoreApplication.instance() or QCoreApplication([])


class Layer:
    """BGRA8 pixels that record each read, as Krita's pixelData returns them."""

    def __init__(self, width, height):
        image = pixels.load_file(sample("chelsea.png"))
        self.width, self.height = width, height
        self.data = bytearray(pixels.fit_to(image, width, height))
        self.reads = []

    def read(self, x, y, w, h):
        self.reads.append(w * h * 4)
        rows = [self.data[(r * self.width + x) * 4:(r * self.width + x + w) * 4] for r in range(y, y + h)]
        return bytes(b"".join(rows))

    def paint(self, x, y, w, h):
        for r in range(y, y + h):
            self.data[(r * self.width + x) * 4:(r * self.width + x + w) * 4] = b"\x20\x40\xf0\xff" * w


def scanner(layer, band_bytes):
    return scan.BandScan(layer.read, 0, 0, layer.width, layer.height, 4, band_bytes)


def test_a_big_layer_is_read_a_band_at_a_time_and_every_change_is_seen_within_one_pass():
    layer = Layer(400, 300)
    band = 40 * 400 * 4
    s = scanner(layer, band)
    assert len(s.bands) == 8 and sum(rows for _, rows in s.bands) == 300
    layer.reads.clear()
    for _ in range(8):
        assert s.poll() == 0, "nothing changed"
    assert max(layer.reads) <= band and len(layer.reads) == 8
    for n, (x, y) in enumerate([(5, 295), (390, 0), (200, 161)], 1):   # last row, first row, in the middle
        layer.paint(x, y, 3, 2)
        layer.reads.clear()
        seen = [s.poll() for _ in range(len(s.bands))]
        assert seen[-1] == n, (x, y, seen)
        assert len(layer.reads) <= 2 * len(s.bands) and max(layer.reads) <= band, "two bands a poll at most"


def test_the_band_that_changed_last_is_checked_on_every_poll():
    layer = Layer(400, 300)
    s = scanner(layer, 30 * 400 * 4)
    layer.paint(100, 200, 20, 5)
    while s.poll() == 0:
        pass
    for stroke in range(1, 6):   # the artist keeps painting there: seen on the next poll each time
        layer.paint(100 + stroke, 200, 20, 5)
        assert s.poll() == 1 + stroke
    assert s.poll() == 6 and s.poll() == 6, "still: no change"


def test_a_small_layer_is_one_band_read_whole_on_each_poll():
    layer = Layer(120, 80)
    s = scanner(layer, scan.BAND_BYTES)
    assert s.bands == [(0, 80)]
    layer.reads.clear()
    assert s.poll() == 0 and layer.reads == [120 * 80 * 4]
    layer.paint(119, 79, 1, 1)   # one pixel
    assert s.poll() == 1


def test_what_the_scan_reads_keeps_the_layer_reduced_and_up_to_date():
    layer = Layer(400, 300)
    kept = pixels.Reduced(400, 300, 100, 75)
    s = scan.BandScan(layer.read, 0, 0, 400, 300, 4, 40 * 400 * 4, keep=kept)
    before = kept.image()
    layer.paint(10, 250, 50, 20)
    for _ in range(len(s.bands)):
        s.poll()
    fresh = pixels.Reduced(400, 300, 100, 75)
    fresh.put(0, 300, layer.read(0, 0, 400, 300))
    assert kept.image().data == fresh.image().data != before.data
