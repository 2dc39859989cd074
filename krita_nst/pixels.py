"""Pixel conversions for the plugin, all in Qt's C++ (QImage), never in Python loops: scaling,
masking, and the PNG files that carry images over slow links.

Krita-free: the tests run it with PyQt5 from pip.  BGRA8 in memory is QImage's ARGB32 on the
little-endian machines Krita runs on.
"""

import math
import zlib
from typing import Any, Dict, Iterator, Tuple

from .core.wire import PNG, RAW, Image
from .qt import QBuffer, QByteArray, QColorSpace, QImage, QIODevice, QPainter, Qt

# Qt maps PNG "quality" q to zlib level (100 - q) * 9 // 91: 85 is level 1, the fast one the
# backend writes too (4x faster than the default on 4096 px, ~25 % bigger).
PNG_QUALITY = 85


class PixelError(ValueError):
    """Pixels that cannot be decoded (a damaged PNG from the backend)."""


def _bytes(image: Any) -> bytes:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    return bytes(image.constBits().asstring(image.sizeInBytes()))


def qimage(image: Image) -> Any:
    """A QImage of a BGRA8, RGBA8 or PNG Image (it shares a raw image's bytes: keep `image` alive)."""
    if image.encoding == PNG:
        decoded = QImage.fromData(QByteArray(bytes(image.data)), "PNG")
        if decoded.isNull() or (decoded.width(), decoded.height()) != (image.width, image.height):
            raise PixelError("the backend sent a damaged %dx%d PNG image" % (image.width, image.height))
        return decoded
    layout = {"BGRA8": QImage.Format.Format_ARGB32, "RGBA8": QImage.Format.Format_RGBA8888}.get(image.format)
    if layout is None:
        raise PixelError("%s pixels cannot be read here; the plugin reads BGRA8 and RGBA8" % image.format)
    return QImage(image.data, image.width, image.height, image.width * 4, layout)


def load_file(path: str) -> Image:
    """An image file (PNG, JPEG, ... what Qt reads) as a BGRA8 Image."""
    picture = QImage(path)
    if picture.isNull():
        raise PixelError("it is missing or not an image Qt can read")
    return Image(picture.width(), picture.height(), "BGRA8", _bytes(picture))


def encoded(image: Image, encoding: str) -> Image:
    """An Image as it travels: unchanged for raw, else a PNG file (RGBA8) of it."""
    if encoding == RAW or image.encoding == encoding:
        return image
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not qimage(image).save(buffer, "PNG", PNG_QUALITY):
        raise PixelError("Qt could not write a PNG image")
    buffer.close()
    return Image(image.width, image.height, "RGBA8", bytes(data), PNG)


def fit_to(image: Image, width: int, height: int) -> bytes:
    """BGRA8 bytes of `image` (any encoding) scaled to width x height (previews come at the working size)."""
    if image.encoding == RAW and image.format == "BGRA8" and (image.width, image.height) == (width, height):
        return bytes(image.data)
    picture = qimage(image)
    if (image.width, image.height) != (width, height):
        picture = picture.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
    return _bytes(picture)


def fitted_bands(image: Image, width: int, height: int, band_rows: int) -> Iterator[Tuple[int, int, bytes]]:
    """(top, rows, BGRA8 bytes) of `image` scaled to width x height, a band of rows at a time: a big
    layer is written in pieces (6x faster in Krita 5.1 than one 48 MB write), never whole in memory."""
    if image.encoding == RAW and image.format == "BGRA8" and (image.width, image.height) == (width, height):
        for top in range(0, height, band_rows):
            rows = min(band_rows, height - top)
            yield top, rows, bytes(image.data[top * width * 4:(top + rows) * width * 4])
        return
    picture = qimage(image).convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    if picture.width() > width or picture.height() > height:   # shrinking: area-averaged, not sampled
        picture = picture.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
    for top in range(0, height, band_rows):
        rows = min(band_rows, height - top)
        band = QImage(width, rows, QImage.Format.Format_ARGB32_Premultiplied)
        band.fill(0)
        painter = QPainter(band)   # the whole scale, shifted to the band: no seams between bands
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.translate(0, -top)
        painter.scale(width / picture.width(), height / picture.height())
        painter.drawImage(0, 0, picture)
        painter.end()
        yield top, rows, _bytes(band)


# What a layer's raw pixels can be kept reduced from (pixels.Reduced): bytes a pixel, their QImage
# format, the format the narrowed bands are kept in, and whether they are linear light.  Krita
# stores 16-bit RGBA as B, G, R, A: QImage's RGBA64 with red and blue swapped.
LAYOUTS = {"BGRA8": (4, QImage.Format.Format_ARGB32, QImage.Format.Format_ARGB32, False),
           "BGRA16": (8, QImage.Format.Format_RGBA64, QImage.Format.Format_RGBA64_Premultiplied, False),
           "BGRA16-linear": (8, QImage.Format.Format_RGBA64, QImage.Format.Format_RGBA64_Premultiplied, True)}


class Reduced:
    """A width x height area of raw pixels (a LAYOUTS key) kept as 8-bit sRGB at out_w x out_h, from
    bands of rows as they are read: live mode keeps its content this way from the scan's own reads,
    so that an update need not read (or convert) a big layer again.  Each band is narrowed as it
    comes and the whole shortened when asked for, the two passes of one scale: the bands meet exactly.
    16-bit linear pixels are averaged in linear light, then converted to sRGB."""

    def __init__(self, width: int, height: int, out_w: int, out_h: int, layout: str = "BGRA8") -> None:
        self.width, self.height, self.out_w, self.out_h = width, height, out_w, out_h
        self.pixel_bytes, self.format, self.kept, self.linear = LAYOUTS[layout]
        self.bands: Dict[int, bytes] = {}

    def put(self, top: int, rows: int, data: bytes) -> None:
        """The rows top..top+rows of the area have been read as `data`."""
        band = QImage(data, self.width, rows, self.width * self.pixel_bytes, self.format)
        narrow = band.scaled(self.out_w, rows, Qt.AspectRatioMode.IgnoreAspectRatio,
                             Qt.TransformationMode.SmoothTransformation).convertToFormat(self.kept)
        self.bands[top] = bytes(narrow.constBits().asstring(narrow.sizeInBytes()))

    def image(self) -> Image:
        """The area as it was last read, as a BGRA8 (sRGB) Image of out_w x out_h."""
        narrow = b"".join(self.bands[top] for top in sorted(self.bands))   # kept as deep as read
        picture = QImage(narrow, self.out_w, self.height, self.out_w * self.pixel_bytes, self.kept).scaled(
            self.out_w, self.out_h, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
        if self.pixel_bytes == 8:
            picture = picture.rgbSwapped().convertToFormat(QImage.Format.Format_RGBA64)
            if self.linear:
                picture.setColorSpace(QColorSpace(QColorSpace.NamedColorSpace.SRgbLinear))
                picture.convertToColorSpace(QColorSpace(QColorSpace.NamedColorSpace.SRgb))
        return Image(self.out_w, self.out_h, "BGRA8", _bytes(picture))


def shrunk(image: Image, most: int) -> Image:
    """A BGRA8 Image of no more than `most` pixels (same aspect ratio; unchanged if it has fewer)."""
    if image.width * image.height <= most:
        return image
    ratio = math.sqrt(most / (image.width * image.height))
    width, height = max(1, round(image.width * ratio)), max(1, round(image.height * ratio))
    return Image(width, height, "BGRA8", fit_to(image, width, height))


def checksum(picture: Any) -> int:
    """A QImage's pixels' CRC-32 (a cheap fingerprint)."""
    return zlib.crc32(picture.constBits().asstring(picture.sizeInBytes())) if not picture.isNull() else 0


def masked(data: bytes, mask: bytes, width: int, height: int) -> bytes:
    """BGRA8 pixels with their alpha multiplied by the mask (one byte a pixel)."""
    image = QImage(data, width, height, width * 4, QImage.Format.Format_ARGB32).convertToFormat(
        QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
    painter.drawImage(0, 0, QImage(mask, width, height, width, QImage.Format.Format_Alpha8))
    painter.end()
    return _bytes(image)
