"""An animated layer's keyframes read through Krita's API, and the animated result layer they are written into.

Krita's Python API (5.1 to 6.0) reads a keyframe anywhere in time (`Node.pixelDataAtTime`) but writes
only the frame under the playhead (`Node.setPixelData`), and it has no call that adds a keyframe: the
result's keyframes are made with Krita's own `add_blank_frame` action on the result layer, with the
playhead at each time, and every write moves the playhead there and back.  Undo: the new layer is one
undo step and each keyframe another (Krita's "Add Keyframe"); pixel writes are not on the undo stack, as
for a still run.  Undoing the layer's insertion removes the whole result.
"""

from typing import Any, List, Optional, Tuple, cast

from krita import Krita

from . import animation_plan, layers
from .animation_plan import Frame
from .core.wire import Image
from .layers import LayerError, ResultLayer
from .qt import QRect

# Krita's animation calls are not in stubs/krita.pyi: these objects are typed loosely.
Document = Any
Node = Any


def is_animated(node: Optional[Node]) -> bool:
    return node is not None and bool(node.animated())


def frame_range(document: Document) -> Tuple[int, int]:
    """The playback range (Krita gives the whole clip when none is set)."""
    return int(document.playBackStartTime()), int(document.playBackEndTime())


def frame_plan(document: Document, node: Node) -> List[Frame]:
    """The keyframes to stylise (animation_plan.plan) of an animated layer over the playback range."""
    if not is_animated(node):
        raise LayerError("Layer %s is not animated: use Stylize Layer for a still picture." % layers.describe(node))
    start, end = frame_range(document)
    before = next((t for t in range(start, -1, -1) if node.hasKeyframeAtTime(t)), None)   # showing at start
    times = ([before] if before is not None else []) + [t for t in range(start + 1, end + 1)
                                                      if node.hasKeyframeAtTime(t)]
    rect = canvas(document)
    keys = [(t, not _has_pixels(read(node, rect, t))) for t in times]
    plan = animation_plan.plan(keys, start, end)
    if all(f.empty for f in plan):
        raise LayerError("Layer %s has no drawn keyframe between frames %d and %d." % (layers.describe(node), start,
                                                                                      end))
    return plan


def canvas(document: Document) -> Any:
    """Every frame is read and written over the whole canvas: the flow needs frames of one size."""
    return QRect(0, 0, document.width(), document.height())


def read(node: Node, rect: Any, time: int) -> Image:
    """The keyframe at `time` as 8-bit sRGB BGRA8 over rect (any colour space: Krita converts)."""
    data = bytes(node.pixelDataAtTime(rect.x(), rect.y(), rect.width(), rect.height(), time))
    if not data:
        raise LayerError("Layer %s has no keyframe at frame %d." % (layers.describe(node), time))
    if not layers._srgb8(node):
        data = layers._to_srgb8(data, rect.width(), rect.height(),
                                (node.colorModel(), node.colorDepth(), node.colorProfile()))
    return Image(rect.width(), rect.height(), "BGRA8", data)


def _has_pixels(image: Image) -> bool:
    return any(image.data[3::4])


class AnimatedResultLayer(ResultLayer):
    """The result: a paint layer right above the content, animated, with a keyframe at each planned frame's time
    (a blank one for an empty frame).  `write_frame` fills one keyframe; the playhead comes back where it was."""

    def __init__(self, document: Document, content: Node, name: str, plan: List[Frame]) -> None:
        super().__init__(document, content, name, canvas(document))
        self.plan = plan
        self.animated = cast(Any, self.node)   # the stub's Node has no animation calls
        self.animated.enableAnimation()   # a keyframe at time 0
        self._at_times([f.time for f in plan if f.time != 0], lambda: Krita.instance().action("add_blank_frame")
                       .trigger())

    def _at_times(self, times: List[int], do: Any) -> None:
        """do() with the result layer active and the playhead at each time; then the artist's time and layer back."""
        document: Any = self.document
        was_time, was_node = document.currentTime(), document.activeNode()
        try:
            document.setActiveNode(self.node)
            for t in times:
                document.setCurrentTime(t)
                document.waitForDone()
                do()
                document.waitForDone()
        finally:
            document.setCurrentTime(was_time)
            if was_node is not None:
                document.setActiveNode(was_node)

    def write_frame(self, index: int, image: Image) -> None:
        """Fill the keyframe of plan[index] with the image, and show it."""
        frame = self.plan[index]
        if not self.animated.hasKeyframeAtTime(frame.time):
            raise LayerError("The result layer lost its keyframe at frame %d." % frame.time)
        document: Any = self.document
        was_time = document.currentTime()
        try:
            document.setCurrentTime(frame.time)
            document.waitForDone()
            self.fill(image)
        finally:
            document.setCurrentTime(was_time)
        document.refreshProjection()
