"""Animation for the fake Krita (tests/fake_krita.py): keyframes at times, the playhead, and Krita's
add_blank_frame action, as the real one behaves (seen in Krita 5.1 and 6.0):

- an animated layer's pixels are the keyframe showing at the playhead (held until the next one);
  `setPixelData` writes into that keyframe, `pixelDataAtTime` reads a keyframe at its own time and
  gives nothing at a held time;
- `Document.setCurrentTime` moves the playhead (an undoable "Switch current time" in Krita: counted in
  `switches`), `Node.duplicate` copies the keyframes;
- `add_blank_frame` (install_actions) adds a blank keyframe to the active layer at the playhead.

Importing it adds these to the fake's Node and Document.
"""

from fake_krita_document import Document, Node
from krita_nst.qt import QByteArray


def _showing(node, time):
    """The time of the keyframe showing at `time` (None before the first)."""
    times = [t for t in node.frames if t <= time]
    return max(times) if times else None


def _get_pixels(node):
    frames = node.__dict__.get("frames")
    if frames is None:
        return node.__dict__["_still"]
    at = _showing(node, node.document.time)
    return frames[at] if at is not None else bytearray(len(node.__dict__["_still"]))   # nowhere to draw


def _set_pixels(node, value):
    node.__dict__["_still"] = value


Node.pixels = property(_get_pixels, _set_pixels)


def animated(self):
    return self.__dict__.get("frames") is not None


def enableAnimation(self):
    if not animated(self):
        self.frames = {0: bytearray(self.__dict__["_still"])}   # Krita: the layer's pixels become frame 0


def hasKeyframeAtTime(self, time):
    return animated(self) and time in self.frames


def pixelDataAtTime(self, x, y, w, h, time):
    if not hasKeyframeAtTime(self, time):
        return QByteArray()   # as Krita: a held time has no pixels of its own
    was, self.document.time = self.document.time, time   # read without moving the playhead
    try:
        return self.pixelData(x, y, w, h)
    finally:
        self.document.time = was


def add_keyframe(self, time):
    """A blank keyframe at `time` (what Krita's add_blank_frame does at the playhead)."""
    self.enableAnimation()
    self.frames[time] = bytearray(len(self.__dict__["_still"]))


def duplicate(self):
    copy = Node(self.document, self._name, self._type)
    copy.space, copy.props = self.space, dict(self.props)
    copy.pixels = bytearray(self.__dict__["_still"])
    if animated(self):
        copy.frames = {t: bytearray(p) for t, p in self.frames.items()}
    copy._children = [child.duplicate() for child in self._children]
    for child in copy._children:
        child._parent = copy
    return copy


def _prop(name):
    def setter(self, value):
        self.props[name] = value
    return setter


Node.props = property(lambda self: self.__dict__.setdefault("_props", {"opacity": 255, "blendingMode": "normal",
                                                                        "visible": True, "locked": False}),
                      lambda self, value: self.__dict__.__setitem__("_props", value))
for _name, _method in (("animated", animated), ("enableAnimation", enableAnimation),
                       ("hasKeyframeAtTime", hasKeyframeAtTime), ("pixelDataAtTime", pixelDataAtTime),
                       ("add_keyframe", add_keyframe), ("duplicate", duplicate), ("setOpacity", _prop("opacity")),
                       ("setBlendingMode", _prop("blendingMode")), ("setVisible", _prop("visible")),
                       ("setLocked", _prop("locked"))):
    setattr(Node, _name, _method)


def _time(document):
    return document.__dict__.get("_time", 0)


def _set_time(document, value):
    document.__dict__["_time"] = value


Document.time = property(_time, _set_time)
Document.range = property(lambda d: d.__dict__.get("_range", (0, 10)),
                          lambda d, v: d.__dict__.__setitem__("_range", v))


def setCurrentTime(self, time):
    if time != self.time:
        self.switches = getattr(self, "switches", 0) + 1
    self.time = time


for _name, _method in (("currentTime", lambda self: self.time), ("setCurrentTime", setCurrentTime),
                       ("playBackStartTime", lambda self: self.range[0]),
                       ("playBackEndTime", lambda self: self.range[1]),
                       ("setPlayBackRange", lambda self, start, end: setattr(self, "range", (start, end))),
                       ("fullClipRangeEndTime", lambda self: self.range[1])):
    setattr(Document, _name, _method)


def install_actions(app):
    """Krita's add_blank_frame, on the active document's active layer at its playhead."""
    from fake_krita import Action

    def add_blank_frame(_checked=False):
        document = app.activeDocument()
        document.activeNode().add_keyframe(document.time)
    action = app.actions.setdefault("add_blank_frame", Action("add_blank_frame"))
    action.triggered.connect(add_blank_frame)


class _Side(int):
    """A canvas side that the fake reads as a number and the plugin calls, as libkis's Document.width()."""

    def __call__(self):
        return int(self)


for _side in ("width", "height"):
    setattr(Document, _side, property(lambda d, s=_side: _Side(d.__dict__["_" + s]),
                                      lambda d, v, s=_side: d.__dict__.__setitem__("_" + s, v)))
