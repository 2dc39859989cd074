"""The plugin's pixel conversions (Qt, C++) against the backend's (Pillow): the PNG link both ways."""

import os
import random

import numpy as np
import pytest

from backend import images
from helpers import sample
from krita_nst import pixels
from krita_nst.core.wire import Image
from krita_nst.qt import QCoreApplication


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


def _array(data, w, h):
    return np.frombuffer(data, np.uint8).reshape(h, w, 4).astype(np.int16)


def test_a_result_written_in_bands_is_the_whole_scaled_image_without_seams():
    small = Image(64, 43, "BGRA8", pixels.fit_to(pixels.load_file(sample("chelsea.png")), 64, 43))
    whole = _array(pixels.fit_to(small, 451, 300), 451, 300)
    bands = list(pixels.fitted_bands(small, 451, 300, 37))
    assert [top for top, _, _ in bands] == list(range(0, 300, 37)) and sum(rows for _, rows, _ in bands) == 300
    joined = _array(b"".join(data for _, _, data in bands), 451, 300)
    assert (joined[..., 3] == 255).all(), "opaque to the edges"
    diff = np.abs(joined - whole)[..., :3]
    assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 8, "the same picture as one scaled image"
    seams = [top - 1 for top in range(37, 300, 37)] + list(range(37, 300, 37))
    assert diff[seams].mean() < 1.5 * diff.mean() + 0.5, "no seam where the bands meet"
    exact = Image(451, 300, "BGRA8", bytes(whole.astype(np.uint8).tobytes()))
    assert b"".join(d for _, _, d in pixels.fitted_bands(exact, 451, 300, 64)) == exact.data, "same size: as is"
    shrunk = b"".join(d for _, _, d in pixels.fitted_bands(exact, 64, 43, 10))
    assert np.abs(_array(shrunk, 64, 43) - _array(small.data, 64, 43)).mean() < 3, "a bigger image is shrunk"


def test_content_kept_reduced_band_by_band_follows_what_was_read():
    layer = pixels.fit_to(pixels.load_file(sample("chelsea.png")), 451, 300)
    kept = pixels.Reduced(451, 300, 160, 106)
    band = 40

    def put(top):
        rows = min(band, 300 - top)
        kept.put(top, rows, layer[top * 451 * 4:(top + rows) * 451 * 4])
    for top in range(0, 300, band):
        put(top)
    first = kept.image()
    assert (first.width, first.height, len(first.data)) == (160, 106, 160 * 106 * 4)
    whole = _array(pixels.fit_to(Image(451, 300, "BGRA8", layer), 160, 106), 160, 106)
    assert np.abs(_array(first.data, 160, 106) - whole)[..., :3].mean() < 1, "the layer at the working size"
    painted = bytearray(layer)
    painted[(125 * 451) * 4:(130 * 451) * 4] = b"\x00\x00\xff\xff" * (5 * 451)   # rows 125-129: band 3
    layer = bytes(painted)
    put(120)
    changed = np.nonzero(np.abs(_array(kept.image().data, 160, 106) - _array(first.data, 160, 106)).sum(axis=(1, 2)))
    assert set(changed[0]) <= set(range(round(120 * 106 / 300), round(160 * 106 / 300))) and len(changed[0])


def test_shrunk_keeps_the_aspect_within_the_pixel_count_and_checksums_tell_images_apart():
    image = pixels.load_file(sample("chelsea.png"))
    small = pixels.shrunk(image, 20000)
    assert small.width * small.height <= 20000 * 1.02 and abs(small.width / small.height - 451 / 300) < 0.02
    assert pixels.shrunk(small, 10 ** 6) is small
    assert pixels.checksum(pixels.qimage(small)) != pixels.checksum(pixels.qimage(pixels.shrunk(image, 19000)))


def _srgb_to_linear(v):
    v = v / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


@pytest.mark.parametrize("layout", ["BGRA16", "BGRA16-linear"])
def test_16_bit_pixels_kept_reduced_come_out_as_the_8_bit_srgb_ones(layout):
    """Krita's 16-bit RGBA (B, G, R, A; sRGB or linear sRGB) reduced in Qt as the 8-bit sRGB layer is."""
    eight = _array(pixels.fit_to(pixels.load_file(sample("chelsea.png")), 451, 300), 451, 300).astype(np.float64)
    colour = _srgb_to_linear(eight[..., :3]) if layout.endswith("linear") else eight[..., :3] / 255.0
    sixteen = np.concatenate([colour, eight[..., 3:] / 255.0], axis=-1)
    raw = np.round(sixteen * 65535).astype("<u2").tobytes()
    kept16 = pixels.Reduced(451, 300, 160, 106, layout)
    kept8 = pixels.Reduced(451, 300, 160, 106)
    for top in range(0, 300, 64):
        rows = min(64, 300 - top)
        kept16.put(top, rows, raw[top * 451 * 8:(top + rows) * 451 * 8])
        kept8.put(top, rows, bytes(eight.astype(np.uint8)[top:top + rows].tobytes()))
    diff = np.abs(_array(kept16.image().data, 160, 106) - _array(kept8.image().data, 160, 106))
    assert diff[..., 3].max() == 0 and diff[..., :3].mean() < 2, "same colours, same order"
