"""The fake Krita's documents (tests/fake_krita.py): BGRA8 8-bit sRGB paint layers in memory, their
annotations and selection, as much of libkis's Document, Node and Selection as the plugin uses."""

import uuid

from krita_nst.qt import QByteArray, QImage, QRect

SRGB = "sRGB-elle-V2-srgbtrc.icc"


class _Uuid:
    def __init__(self):
        self.text = "{%s}" % uuid.uuid4()

    def toString(self):
        return self.text

    def __eq__(self, other):
        return isinstance(other, _Uuid) and other.text == self.text

    def __hash__(self):
        return hash(self.text)


class Node:
    """A BGRA8 8-bit sRGB paint layer (or a group: childNodes) of a document's canvas size."""

    def __init__(self, document, name, node_type="paintlayer"):
        self.document, self._name, self._type = document, name, node_type
        self._id, self._parent, self._children = _Uuid(), None, []
        self.pixels = bytearray(document.width * document.height * 4)
        self.space = ("RGBA", "U8", SRGB)
        self.writes = 0

    def name(self):
        return self._name

    def setName(self, name):
        self._name = name

    def type(self):
        return self._type

    def uniqueId(self):
        return self._id

    def colorModel(self):
        return self.space[0]

    def colorDepth(self):
        return self.space[1]

    def colorProfile(self):
        return self.space[2]

    def setColorSpace(self, model, depth, profile):
        self.space = (model, depth, profile)
        return True

    def bounds(self):
        """The rect of its pixels with any alpha (empty when transparent)."""
        w, h = self.document.width, self.document.height
        alpha = self.pixels[3::4]
        rows = [y for y in range(h) if any(alpha[y * w:(y + 1) * w])]
        if not rows:
            return QRect()
        cols = [x for x in range(w) if any(alpha[y * w + x] for y in rows)]
        return QRect(cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1)

    def pixelData(self, x, y, w, h):
        out, width = bytearray(w * h * 4), self.document.width
        for row in range(h):
            for col in range(w):
                px, py = x + col, y + row
                if 0 <= px < width and 0 <= py < self.document.height:
                    at = (py * width + px) * 4
                    out[(row * w + col) * 4:(row * w + col + 1) * 4] = self.pixels[at:at + 4]
        return QByteArray(bytes(out))

    projectionPixelData = pixelData

    def setPixelData(self, data, x, y, w, h):
        data, width = bytes(data), self.document.width
        for row in range(h):
            for col in range(w):
                px, py = x + col, y + row
                if 0 <= px < width and 0 <= py < self.document.height:
                    at = (py * width + px) * 4
                    self.pixels[at:at + 4] = data[(row * w + col) * 4:(row * w + col + 1) * 4]
        self.writes += 1
        return True

    def fill(self, x, y, w, h, bgra):
        """Paint a rect in one colour (a test's stroke)."""
        self.setPixelData(bytes(bgra) * (w * h), x, y, w, h)

    def thumbnail(self, w, h):
        d = self.document
        image = QImage(bytes(self.pixels), d.width, d.height, d.width * 4, QImage.Format.Format_ARGB32)
        return image.scaled(w, h).copy()

    def childNodes(self):
        return list(self._children)

    def parentNode(self):
        return self._parent

    def addChildNode(self, child, above):
        child._parent = self
        self._children.insert(self._children.index(above) + 1 if above in self._children else 0, child)
        return True

    def remove(self):
        if self._parent is None:
            return False
        self._parent._children.remove(self)
        self._parent = None
        return True


class Selection:
    """A rectangle selected fully (255), soft edge nowhere."""

    def __init__(self, x, y, w, h):
        self._rect = (x, y, w, h)

    def x(self):
        return self._rect[0]

    def y(self):
        return self._rect[1]

    def width(self):
        return self._rect[2]

    def height(self):
        return self._rect[3]

    def pixelData(self, x, y, w, h):
        sx, sy, sw, sh = self._rect
        return QByteArray(bytes(255 if sx <= x + c < sx + sw and sy <= y + r < sy + sh else 0
                                for r in range(h) for c in range(w)))

    def duplicate(self):
        return Selection(*self._rect)

    def feather(self, value):
        pass


class Document:
    def __init__(self, width=64, height=48, name="doc"):
        self.width, self.height, self.name = width, height, name
        self.root = Node(self, "root", "grouplayer")
        self.annotations = {}
        self._selection = None
        self._active = None
        self.refreshes = 0

    def add_layer(self, name, fill=None, rect=None):
        """A test's helper: a paint layer on top, filled within rect (default: all) with a BGRA colour."""
        node = self.createNode(name, "paintlayer")
        top = self.root._children[-1] if self.root._children else None
        self.root.addChildNode(node, top)
        if fill is not None:
            node.fill(*(rect or (0, 0, self.width, self.height)), fill)
        return node

    def rootNode(self):
        return self.root

    def createNode(self, name, node_type):
        return Node(self, name, node_type)

    def nodeByName(self, name):
        def walk(node):
            for child in node.childNodes():
                if child.name() == name:
                    return child
                found = walk(child)
                if found is not None:
                    return found
            return None
        return walk(self.root)

    def activeNode(self):
        return self._active

    def setActiveNode(self, node):
        self._active = node

    def selection(self):
        return self._selection

    def setSelection(self, selection):
        self._selection = selection

    def annotationTypes(self):
        return list(self.annotations)

    def annotation(self, kind):
        return QByteArray(self.annotations[kind][1])

    def setAnnotation(self, kind, description, data):
        self.annotations[kind] = (description, bytes(data))

    def refreshProjection(self):
        self.refreshes += 1

    def waitForDone(self):
        pass

    def setModified(self, modified):
        pass

    def close(self):
        from fake_krita import Krita  # the app that holds the open documents
        app = Krita.instance()
        if self in app.docs:
            app.docs.remove(self)
        return True
