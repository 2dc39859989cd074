"""The plugin's pixel conversions (Qt, C++) against the backend's (Pillow): the PNG link both ways."""

import os
import random

import pytest

from backend import images
from helpers import sample
from krita_nst import pixels
from krita_nst.qt import QCoreApplication
from krita_nst.wire import Image


@pytest.fixture(scope="module", autouse=True)
def app():
    return QCoreApplication.instance() or QCoreApplication([])


def bgra(w, h, seed=3):
    rng = random.Random(seed)
    return Image(w, h, "BGRA8", bytes(rng.randrange(256) for _ in range(w * h * 4)))


def test_plugin_png_decodes_in_the_backend_to_the_same_pixels():
    raw = bgra(37, 21)
    png = pixels.encoded(raw, "png")
    assert png.encoding == "png" and png.format == "RGBA8"
    back = images.decoded(png)
    swap = bytearray(raw.data)
    swap[0::4], swap[2::4] = raw.data[2::4], raw.data[0::4]
    assert back.format == "RGBA8" and back.data == bytes(swap)


def test_backend_png_decodes_in_the_plugin_to_the_same_pixels():
    raw = bgra(29, 17, seed=5)
    png = images.encoded(raw, "png")
    assert pixels.fit_to(png, 29, 17) == raw.data
    assert len(pixels.fit_to(png, 58, 34)) == 58 * 34 * 4


def test_a_real_picture_shrinks_and_a_damaged_one_is_refused():
    photo = images.load_file(sample("astronaut.png"))
    png = pixels.encoded(photo, "png")
    assert len(png.data) < 0.8 * len(photo.data)
    with pytest.raises(pixels.PixelError, match="damaged"):
        pixels.qimage(Image(8, 8, "RGBA8", os.urandom(100), "png"))
    small = pixels.encoded(bgra(8, 8), "png").data   # a valid PNG of another size than declared
    with pytest.raises(pixels.PixelError, match="damaged"):
        pixels.qimage(Image(8, 9, "RGBA8", small, "png"))
    with pytest.raises(ValueError, match="not the 8x9"):
        images.decoded(Image(8, 9, "RGBA8", small, "png"))
