"""Pixel conversions for the plugin, all in Qt's C++ (QImage), never in Python loops: scaling,
masking, and the PNG files that carry images over slow links.

Krita-free: the tests run it with PyQt5 from pip.  BGRA8 in memory is QImage's ARGB32 on the
little-endian machines Krita runs on.
"""

from typing import Any

from .qt import QBuffer, QByteArray, QImage, QIODevice, QPainter, Qt
from .wire import PNG, RAW, Image

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


def masked(data: bytes, mask: bytes, width: int, height: int) -> bytes:
    """BGRA8 pixels with their alpha multiplied by the mask (one byte a pixel)."""
    image = QImage(data, width, height, width * 4, QImage.Format.Format_ARGB32).convertToFormat(
        QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
    painter.drawImage(0, 0, QImage(mask, width, height, width, QImage.Format.Format_Alpha8))
    painter.end()
    return _bytes(image)
