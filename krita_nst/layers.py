"""Layer pixels to wire images and back.  Conversions run in Qt's C++ (QImage), never Python loops."""

from PyQt5.QtCore import QRect, Qt
from PyQt5.QtGui import QImage

from .wire import Image

MAX_SIDE = 16384


class LayerError(Exception):
    """A layer that cannot be used, with a message for the artist."""


def describe(node):
    return "\u201c%s\u201d" % node.name()


def export(node):
    """The layer's pixels within its bounds as a BGRA8 Image, and those bounds (QRect)."""
    if node is None:
        raise LayerError("No layer is selected.")
    model, depth = node.colorModel(), node.colorDepth()
    if (model, depth) != ("RGBA", "U8"):
        raise LayerError("Layer %s is %s/%s; krita-nst works on 8-bit RGB/Alpha layers. Convert it with "
                         "Image \u25b8 Convert Image Color Space (RGB/Alpha, 8-bit integer) or work on a copy."
                         % (describe(node), model, depth))
    rect = node.bounds()
    if rect.isEmpty():
        raise LayerError("Layer %s is empty: there is nothing to stylise." % describe(node))
    if rect.width() > MAX_SIDE or rect.height() > MAX_SIDE:
        raise LayerError("Layer %s is %dx%d px; krita-nst takes layers up to %d px on a side."
                         % (describe(node), rect.width(), rect.height(), MAX_SIDE))
    # A paint layer's own pixels; for groups, filter and file layers, what they show.
    read = node.pixelData if node.type() == "paintlayer" else node.projectionPixelData
    data = bytes(read(rect.x(), rect.y(), rect.width(), rect.height()))
    return Image(rect.width(), rect.height(), "BGRA8", data), QRect(rect)


def fit_to(image, rect):
    """BGRA8 bytes of `image` scaled to the rect's size (previews come at the working size)."""
    if (image.width, image.height) == (rect.width(), rect.height()):
        return bytes(image.data)
    # BGRA in memory is QImage's ARGB32 on little-endian machines (all that Krita runs on).
    qimage = QImage(image.data, image.width, image.height, image.width * 4, QImage.Format_ARGB32)
    scaled = qimage.scaled(rect.width(), rect.height(), Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
    scaled = scaled.convertToFormat(QImage.Format_ARGB32)
    return scaled.constBits().asstring(scaled.sizeInBytes())


def write(document, node, image, rect):
    """Replace the node's pixels inside rect with the image, and show it."""
    node.setPixelData(fit_to(image, rect), rect.x(), rect.y(), rect.width(), rect.height())
    document.refreshProjection()
