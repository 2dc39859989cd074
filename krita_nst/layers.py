"""Every call into Krita's documents and layers: reading pixels, creating, filling, naming and
removing result layers.  Krita-version differences have their home here.

Pixel conversions run in Qt's C++ (QImage), never in Python loops.
"""

from typing import Any, Iterable, List, Optional, Tuple

from krita import Krita

from .qt import QImage, QRect, Qt
from .wire import Image

MAX_SIDE = 16384


class LayerError(Exception):
    """A layer that cannot be used, with a message for the artist."""


def describe(node: Any) -> str:
    return "\u201c%s\u201d" % node.name()


def active_document() -> Any:
    return Krita.instance().activeDocument()


def is_open(document: Any) -> bool:
    return document is not None and document in Krita.instance().documents()


def node_id(node: Any) -> str:
    return node.uniqueId().toString()


def find_nodes(document: Any, ids: Iterable[str]) -> List[Any]:
    """The document's layers with these ids, in that order, skipping those that are gone."""
    found = {}

    def walk(node: Any) -> None:
        for child in node.childNodes():
            found[node_id(child)] = child
            walk(child)
    walk(document.rootNode())
    return [found[i] for i in ids if i in found]


def export(node: Any) -> Tuple[Image, Any]:
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


def fit_to(image: Image, rect: Any) -> bytes:
    """BGRA8 bytes of `image` scaled to the rect's size (previews come at the working size)."""
    if (image.width, image.height) == (rect.width(), rect.height()):
        return bytes(image.data)
    # BGRA in memory is QImage's ARGB32 on little-endian machines (all that Krita runs on).
    qimage = QImage(image.data, image.width, image.height, image.width * 4, QImage.Format.Format_ARGB32)
    scaled = qimage.scaled(rect.width(), rect.height(), Qt.AspectRatioMode.IgnoreAspectRatio,
                           Qt.TransformationMode.SmoothTransformation)
    scaled = scaled.convertToFormat(QImage.Format.Format_ARGB32)
    return bytes(scaled.constBits().asstring(scaled.sizeInBytes()))


class ResultLayer:
    """A new paint layer right above the content layer, with the content's bounds, that a job fills."""

    def __init__(self, document: Any, content: Any, name: str, rect: Any) -> None:
        self.document, self.name, self.rect = document, name, rect
        self.node = document.createNode(name, "paintlayer")
        content.parentNode().addChildNode(self.node, content)

    def alive(self) -> bool:
        return is_open(self.document) and self.node.parentNode() is not None

    def write(self, image: Image) -> None:
        """Replace the layer's pixels inside its rect with the image, and show it."""
        rect = self.rect
        self.node.setPixelData(fit_to(image, rect), rect.x(), rect.y(), rect.width(), rect.height())
        self.document.refreshProjection()

    def label(self, mark: str) -> None:
        if is_open(self.document):   # the node may be out of the tree (undone): it can come back
            self.node.setName("%s [%s]" % (self.name, mark))

    def discard(self) -> None:
        self.node.remove()
        self.document.refreshProjection()


def result_name(content: Any, styles: Iterable[Any]) -> str:
    return "%s \u00d7 %s" % (content.name(), ", ".join(node.name() for node in styles))


def same_node(a: Optional[Any], b: Optional[Any]) -> bool:
    return a is not None and b is not None and a.uniqueId() == b.uniqueId()
