"""An animated layer's keyframes read through Krita's API, and the animated result layer they are written into.

Krita's Python API (5.1 to 6.0, seen in both) reads a keyframe at its own time (`Node.pixelDataAtTime`;
a held time between keyframes reads as nothing) but writes only the frame under the playhead
(`Node.setPixelData`), and it has no call that adds a keyframe.  So the result layer is a copy of the
content layer (`Node.duplicate` keeps its keyframes at their times), cleared frame by frame and inserted
right above it, and every write moves the playhead to the frame and back.  Undo: inserting the layer is
one step, as for a still run (pixel writes are not on the undo stack); but `Document.setCurrentTime` is an
undoable "Switch current time" in Krita, so after a run the first undo is that (the playhead stays where
the artist left it) and the second removes the whole result layer.
"""

import time
from typing import Any, Callable, List, Optional, Tuple

from krita import Document, Node

from . import actions, animation_plan, layers
from .animation_plan import Frame
from .core.wire import Image
from .layers import SRGB, LayerError, ResultLayer
from .qt import QCoreApplication, QEventLoop, QRect


def is_animated(node: Optional[Node]) -> bool:
    return node is not None and bool(node.animated())


def frame_range(document: Document) -> Tuple[int, int]:
    """The playback range (Krita gives the whole clip when none is set)."""
    return int(document.playBackStartTime()), int(document.playBackEndTime())


def frame_plan(document: Document, node: Node) -> Tuple[List[Frame], List[Optional[Image]]]:
    """The keyframes to stylise (animation_plan.plan) of an animated layer over the playback range, and each
    one's pixels (None for a blank keyframe: it stays blank)."""
    if not is_animated(node):
        raise LayerError("Layer %s is not animated: use %s for a still picture." % (layers.describe(node),
                                                                                     actions.hint(actions.STYLIZE)))
    start, end = frame_range(document)
    before = next((t for t in range(start, -1, -1) if node.hasKeyframeAtTime(t)), None)   # showing at start
    times = ([before] if before is not None else []) + [t for t in range(start + 1, end + 1)
                                                      if node.hasKeyframeAtTime(t)]
    rect = canvas(document)
    layers.check_area(node, rect)
    images = {t: read(node, rect, t) for t in times}
    plan = animation_plan.plan([(t, not _has_pixels(images[t])) for t in times], start, end)
    if all(f.empty for f in plan):
        raise LayerError("Layer %s has no drawn keyframe between frames %d and %d." % (layers.describe(node), start,
                                                                                      end))
    return plan, [None if f.empty else images[f.time] for f in plan]


def canvas(document: Document) -> Any:
    """Every frame is read and written over the whole canvas: the flow needs frames of one size."""
    return QRect(0, 0, document.width(), document.height())


def read(node: Node, rect: Any, time: int) -> Image:
    """The keyframe at `time` as 8-bit sRGB BGRA8 over rect (any colour space: Krita converts)."""
    data = bytes(node.pixelDataAtTime(rect.x(), rect.y(), rect.width(), rect.height(), time))
    if not data:   # Krita gives nothing for a time without pixels of its own
        return Image(rect.width(), rect.height(), "BGRA8", bytes(4 * rect.width() * rect.height()))
    if not layers._srgb8(node):
        data = layers._to_srgb8(data, rect.width(), rect.height(),
                                (node.colorModel(), node.colorDepth(), node.colorProfile()))
    return Image(rect.width(), rect.height(), "BGRA8", data)


def _has_pixels(image: Image) -> bool:
    return any(image.data[3::4])


class AnimatedResultLayer(ResultLayer):
    """The result: a copy of the content layer right above it, so that its keyframes are the content's, at the
    same times (holds and blank frames as they are); every keyframe is cleared when it is made and filled as
    its frame is done.  Inserting it is one undo step, as for a still run."""

    def __init__(self, document: Document, content: Node, name: str, plan: List[Frame]) -> None:
        self.document, self.name, self.rect, self.mask, self.plan = document, name, canvas(document), None, plan
        parent = content.parentNode()
        if parent is None:
            raise LayerError("Layer %s is no longer in its document." % layers.describe(content))
        node = content.duplicate()   # libkis has no call to add a keyframe: the copy has the content's
        if node is None or not node.animated():
            raise LayerError("Krita could not copy the keyframes of layer %s." % layers.describe(content))
        self.node = self.animated = node
        node.setName(name)
        for child in node.childNodes():   # masks of the content are not the result's
            child.remove()
        node.setOpacity(255)
        node.setBlendingMode("normal")
        node.setVisible(True)
        node.setLocked(False)
        if (node.colorModel(), node.colorDepth(), node.colorProfile()) != ("RGBA", "U8", SRGB):
            node.setColorSpace("RGBA", "U8", SRGB)   # before the insertion: it stays the one undo step
        parent.addChildNode(node, content)
        self.times = keyframe_times(document, node)
        blank = Image(self.rect.width(), self.rect.height(), "BGRA8", bytes(4 * self.rect.width() * self.rect.height()))
        self._at_times(self.times, lambda _t: self.fill(blank))   # nothing shows until it is stylised

    def _at_times(self, times: List[int], do: Callable[[int], None]) -> None:
        """do(time) with the playhead at each time (the only frame libkis writes); the artist's time back after."""
        document = self.document
        was_time = document.currentTime()
        try:
            for t in times:
                _move_playhead(document, t)
                do(t)
                document.waitForDone()
        finally:
            _move_playhead(document, was_time)
        document.refreshProjection()

    def write_frame(self, index: int, image: Image) -> None:
        """Fill the keyframe of plan[index] with the image, and show it."""
        frame = self.plan[index]
        if not self.animated.hasKeyframeAtTime(frame.time):
            raise LayerError("The result layer lost its keyframe at frame %d." % frame.time)
        self._at_times([frame.time], lambda _t: self.fill(image))


SWITCH_SECONDS = 10.0   # a busy Krita applies a time switch later: this long at most, then go on


def _move_playhead(document: Document, t: int) -> None:
    """Move the playhead to t and wait until Krita has: a switch it applies later would land after the write.

    Only Qt's own events are processed meanwhile: no input, and no backend output (socket notifiers), so
    no other frame is written before this one.
    """
    document.setCurrentTime(t)
    document.waitForDone()
    deadline = time.monotonic() + SWITCH_SECONDS
    flags = QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents | QEventLoop.ProcessEventsFlag.ExcludeSocketNotifiers
    while document.currentTime() != t and time.monotonic() < deadline:
        QCoreApplication.processEvents(flags, 50)
        document.waitForDone()
    if document.currentTime() != t:
        raise LayerError("Krita did not move to frame %d within %d s; the animation stops there." % (t, SWITCH_SECONDS))


def keyframe_times(document: Document, node: Node) -> List[int]:
    """The times of a layer's keyframes over the whole clip."""
    end = max(int(document.fullClipRangeEndTime()), int(document.playBackEndTime()))
    return [t for t in range(0, end + 1) if node.hasKeyframeAtTime(t)]
