"""Every call into Krita's documents and layers: reading pixels, creating, filling, naming and
removing result layers.  Krita-version differences have their home here.

Pixel conversions run in Qt's C++ (`pixels`), never in Python loops.
"""

from typing import Any, Callable, Iterable, List, Optional, Tuple

from krita import Document, Krita, Node, Selection

from . import scan
from .core.sizes import working_size
from .core.wire import MAX_PIXELS, Image
from .pixels import Reduced, checksum, fitted_bands, masked
from .qt import QColorSpace, QRect

MAX_SIDE = 16384
SRGB = "sRGB-elle-V2-srgbtrc.icc"   # Krita's own sRGB profile: what the backend's pixels mean
SRGB_PROFILES = (SRGB, "sRGB built-in")
LINEAR_SRGB = "sRGB-elle-V2-g10.icc"   # Krita's linear sRGB, for deep documents
# Around a selection the work takes this share of its longer side as context on each side (at least
# MIN_CONTEXT px), so that strokes near its edge continue what lies outside.
CONTEXT, MIN_CONTEXT = 0.125, 32
# A result is written in bands of this many bytes: on 4096x3072 px in Krita 5.1, 6 bands of 8 MB
# took 28 ms where one 48 MB setPixelData took 64-155 ms.
WRITE_BAND_BYTES = 8 << 20


Rect = Any   # a QRect (PyQt comes untyped through qt.py)


class LayerError(Exception):
    """A layer that cannot be used, with a message for the artist."""


def describe(node: Node) -> str:
    return "\u201c%s\u201d" % node.name()


def active_document() -> Optional[Document]:
    return Krita.instance().activeDocument()


def is_open(document: Optional[Document]) -> bool:
    return document is not None and document in Krita.instance().documents()


def node_id(node: Node) -> str:
    return node.uniqueId().toString()


def area_key(document: Optional[Document], node: Optional[Node]) -> Tuple[Any, ...]:
    """Which layer a run would work on and where: (id, x, y, w, h), () without one (the watcher compares it)."""
    if document is None or node is None:
        return ()
    rect = work_rect(document, node)
    return (node_id(node), rect.x(), rect.y(), rect.width(), rect.height())


def find_nodes(document: Document, ids: Iterable[str]) -> List[Node]:
    """The document's layers with these ids, in that order, skipping those that are gone."""
    found = {}

    def walk(node: Node) -> None:
        for child in node.childNodes():
            found[node_id(child)] = child
            walk(child)
    walk(document.rootNode())
    return [found[i] for i in ids if i in found]


def work_rect(document: Document, node: Node) -> Rect:
    """The rect of the layer a run would work on (QRect): its bounds, or with an active selection the
    selection's bounds plus context, within the layer (may be empty)."""
    bounds = node.bounds()
    selection = document.selection()
    if selection is None or bounds.isEmpty():
        return QRect(bounds)
    chosen = QRect(selection.x(), selection.y(), selection.width(), selection.height())
    margin = max(MIN_CONTEXT, int(CONTEXT * max(chosen.width(), chosen.height())))
    return chosen.adjusted(-margin, -margin, margin, margin).intersected(bounds)


def require_pixels(node: Optional[Node]) -> None:
    """LayerError unless there is a layer and it has pixels."""
    if node is None:
        raise LayerError("No layer is selected.")
    if node.bounds().isEmpty():
        raise LayerError("Layer %s is empty: there is nothing to stylise." % describe(node))


def work_area(document: Document, node: Optional[Node], feather: int) -> Tuple[Rect, Optional[bytes]]:
    """The rect of the layer to stylise (QRect) and, with an active selection, the selection over that
    rect (one byte a pixel) that the result's alpha will follow."""
    require_pixels(node)
    assert node is not None
    rect, selection = work_rect(document, node), document.selection()
    if selection is None:
        return rect, None
    mask = _mask(selection, rect, feather) if not rect.isEmpty() else b""
    if not mask.strip(b"\0"):
        raise LayerError("The selection does not cover any pixel of layer %s: select part of it, or deselect "
                         "(Select \u25b8 Deselect) to stylise the whole layer." % describe(node))
    return rect, mask


def _mask(selection: Selection, rect: Rect, feather: int) -> bytes:
    args = (rect.x(), rect.y(), rect.width(), rect.height())
    mask = bytes(selection.pixelData(*args))
    if feather > 0 and not mask.translate(None, b"\0\xff"):   # a hard edge: soften it, on a copy
        soft = selection.duplicate()
        soft.feather(feather)
        mask = bytes(soft.pixelData(*args))
    return mask


def _reader(node: Node) -> Callable[[int, int, int, int], Any]:
    """A paint layer's own pixels; for groups, clone, file, vector and filter layers, what they show."""
    return node.pixelData if node.type() == "paintlayer" else node.projectionPixelData


def _srgb8(node: Node) -> bool:
    """Whether the layer's pixels are already what the backend takes (8-bit sRGB RGBA)."""
    return (node.colorModel(), node.colorDepth()) == ("RGBA", "U8") and node.colorProfile() in SRGB_PROFILES


def _layout(node: Node) -> Optional[str]:
    """How pixels.Reduced reads the layer's raw pixels (None: only Krita can convert them)."""
    if _srgb8(node):
        return "BGRA8"
    if (node.colorModel(), node.colorDepth()) == ("RGBA", "U16"):
        if node.colorProfile() in SRGB_PROFILES:
            return "BGRA16"
        if node.colorProfile() == LINEAR_SRGB and QColorSpace is not None:
            return "BGRA16-linear"
    return None


def scanner(node: Node, rect: Rect, size: int = 0) -> scan.BandScan:
    """Checksums of the layer's pixels within rect, a band at a time (live mode polls them).  With a
    size, an RGBA layer of 8-bit sRGB or 16-bit sRGB or linear sRGB is also kept at that working
    size from the same reads (`.keep`, a pixels.Reduced), so that a live update sends it without
    reading or converting the layer again."""
    read = _reader(node)
    pixel_bytes = len(read(rect.x(), rect.y(), 1, 1))   # 4 at 8-bit RGBA, 8 at 16-bit, 16 at 32-bit float
    keep, layout = None, _layout(node) if size else None
    if layout is not None:
        keep = Reduced(rect.width(), rect.height(), *working_size(rect.width(), rect.height(), size), layout)
    return scan.BandScan(lambda x, y, w, h: bytes(read(x, y, w, h)), rect.x(), rect.y(), rect.width(),
                         rect.height(), pixel_bytes, keep=keep)


def fingerprint(node: Node) -> int:
    """A checksum of what the layer shows at 256x256 px: Krita keeps its thumbnails, so this is cheap
    while the layer is unchanged (live mode re-reads a style layer only when it changes)."""
    return checksum(node.thumbnail(256, 256))


def export(node: Optional[Node], rect: Optional[Rect] = None) -> Tuple[Image, Rect]:
    """The layer's pixels within rect (default: its bounds) as an 8-bit sRGB BGRA8 Image, and that rect
    (QRect).  Any colour model, depth and profile: Krita converts, in C++."""
    if node is None:
        raise LayerError("No layer is selected.")
    rect = QRect(rect) if rect is not None else node.bounds()
    check_area(node, rect)
    data = bytes(_reader(node)(rect.x(), rect.y(), rect.width(), rect.height()))
    if not _srgb8(node):
        data = _to_srgb8(data, rect.width(), rect.height(), (node.colorModel(), node.colorDepth(),
                                                             node.colorProfile()))
    return Image(rect.width(), rect.height(), "BGRA8", data), QRect(rect)


def check_area(node: Node, rect: Rect) -> None:
    """LayerError unless rect of node has pixels and is not too big to stylise."""
    if rect.isEmpty():
        raise LayerError("Layer %s is empty: there is nothing to stylise." % describe(node))
    if rect.width() > MAX_SIDE or rect.height() > MAX_SIDE or rect.width() * rect.height() > MAX_PIXELS:
        raise LayerError("Layer %s is %dx%d px; krita-nst takes up to %d megapixels and %d px on a side: select "
                         "a part of it." % (describe(node), rect.width(), rect.height(), MAX_PIXELS >> 20, MAX_SIDE))


def _to_srgb8(data: bytes, width: int, height: int, space: Tuple[str, str, str]) -> bytes:
    """Pixels of another colour space as 8-bit sRGB, converted by Krita in a throwaway document (the
    artist's document and its undo stack are never touched)."""
    scratch = Krita.instance().createDocument(width, height, "krita-nst conversion", space[0], space[1], space[2],
                                              72.0)
    try:
        layer = scratch.createNode("pixels", "paintlayer")
        scratch.rootNode().addChildNode(layer, None)
        layer.setPixelData(data, 0, 0, width, height)
        layer.setColorSpace("RGBA", "U8", SRGB)
        scratch.waitForDone()
        return bytes(layer.pixelData(0, 0, width, height))
    finally:
        scratch.setModified(False)
        scratch.close()


class ResultLayer:
    """A new paint layer right above the content layer that a job fills within rect; with a mask
    (a selection), transparent where the mask is."""

    shows_previews = True

    def __init__(self, document: Document, content: Node, name: str, rect: Rect,
                 mask: Optional[bytes] = None) -> None:
        self.document, self.name, self.rect, self.mask = document, name, rect, mask
        self.node = document.createNode(name, "paintlayer")
        if (self.node.colorModel(), self.node.colorDepth(), self.node.colorProfile()) != ("RGBA", "U8", SRGB):
            # An 8-bit sRGB layer in any document (16-bit, CMYK, ...): what the backend paints.  Set before
            # the layer is inserted, so the insertion stays the run's one undo step.
            self.node.setColorSpace("RGBA", "U8", SRGB)
        parent = content.parentNode()
        if parent is None:
            raise LayerError("Layer %s is no longer in its document." % describe(content))
        parent.addChildNode(self.node, content)

    def alive(self) -> bool:
        return is_open(self.document) and self.node.parentNode() is not None

    def write(self, image: Image) -> None:
        """Replace the layer's pixels inside its rect with the image, and show it."""
        self.fill(image)
        self.document.refreshProjection()   # a full recomposite: libkis has no other way to show them

    def fill(self, image: Image) -> None:
        """Replace the layer's pixels inside its rect with the image (not shown until a refresh)."""
        rect, width = self.rect, self.rect.width()
        for top, rows, data in fitted_bands(image, width, rect.height(), WRITE_BAND_BYTES // (4 * width) or 1):
            if self.mask is not None:
                data = masked(data, self.mask[top * width:(top + rows) * width], width, rows)
            self.node.setPixelData(data, rect.x(), rect.y() + top, width, rows)

    def label(self, mark: str) -> None:
        if is_open(self.document):   # the node may be out of the tree (undone): it can come back
            self.node.setName("%s [%s]" % (self.name, mark))

    def discard(self) -> None:
        self.node.remove()
        self.document.refreshProjection()


RESULT_MARK = " \u00d7 "   # a result layer is named "content × style" (request.prepare)


def result_pair(node: Optional[Node]) -> Tuple[Node, Node]:
    """(result layer, its content layer) for a result layer or the content layer right below one."""
    parent = node.parentNode() if node is not None else None
    if node is None or parent is None:
        raise LayerError("Select a stylised layer first.")
    siblings = list(parent.childNodes())          # bottom to top
    index = [same_node(n, node) for n in siblings].index(True)
    below = siblings[index - 1] if index > 0 else None
    above = siblings[index + 1] if index + 1 < len(siblings) else None
    if below is not None and node.name().startswith(below.name() + RESULT_MARK):
        return node, below
    if above is not None and above.name().startswith(node.name() + RESULT_MARK):
        return above, node
    raise LayerError("%s is not a stylised layer: select a layer named \u201clayer \u00d7 style\u201d right above "
                     "its layer (or that layer), then finish it at full resolution." % describe(node))


def same_node(a: Optional[Node], b: Optional[Node]) -> bool:
    return a is not None and b is not None and a.uniqueId() == b.uniqueId()
