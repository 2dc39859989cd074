"""One animation run as the plugin sees it: the backend's `frame` messages written into an animated result layer.

It offers what the Controller uses of a `job.Job` (id, name, running, handle, cancel, fail, abandon, the
note/finished/failed/cancelled/ended signals), so the controller holds either.  Each frame shows as soon as
it is done; a cancel or a failure keeps the frames done and marks the layer.
"""

import re
import time
from typing import Any, Callable, Optional

from .core import wire
from .job import CANCELLED, DONE, FAILED, RUNNING, WATCH_MS
from .pixels import PixelError
from .qt import QObject, QTimer, pyqtSignal


def describe_left(done: int, count: int, seconds: float) -> str:
    """ "frame 7 of 24, about 2 min left" from the frames done so far and the time they took."""
    text = "frame %d of %d" % (min(done + 1, count), count)
    if done:
        left = seconds / done * (count - done)
        text += ", about %s left" % ("%d s" % left if left < 90 else "%d min" % round(left / 60))
    return text


class AnimationJob(QObject):
    progress = pyqtSignal(int, int, dict)  # step, total of this frame, {text: "frame 7 of 24, about 2 min left",
                                           # fraction: of the whole animation, frame, frames} (as Job's)
    frame_done = pyqtSignal(int)           # index in the plan, after the layer shows it
    finished = pyqtSignal(object)          # the result layer (krita.Node)
    failed = pyqtSignal(str)
    cancelled = pyqtSignal()
    note = pyqtSignal(str)
    ended = pyqtSignal()

    def __init__(self, job_id: int, target: Any, name: str, send_cancel: Callable[[int], None]) -> None:
        """target: animation.AnimatedResultLayer (write_frame, alive, label, discard, node, plan)."""
        super().__init__()
        self.id, self.target, self.name, self._send_cancel = job_id, target, name, send_cancel
        self.state, self.done, self.started = RUNNING, 0, time.monotonic()
        self.count = sum(not f.empty for f in target.plan)
        self.seconds: Optional[float] = None
        self.peak_memory_mib: Optional[float] = None
        self.first_preview_s: Optional[float] = None   # when the first frame showed
        self.warm, self.work = False, None   # what the controller's speed learning looks at: not learned from
        self._watch = QTimer(self)
        self._watch.timeout.connect(self._check_target)
        self._watch.start(WATCH_MS)

    @property
    def layer(self) -> Any:
        return self.target.node

    def running(self) -> bool:
        return self.state == RUNNING

    def cancel(self) -> None:
        if self.running():
            self._send_cancel(self.id)

    def handle(self, message: wire.Message) -> None:
        if not self.running():
            return
        if message.type == wire.PROGRESS:
            step, total = message["step"], message["total"]
            self.progress.emit(step, total, {
                "text": describe_left(self.done, self.count, time.monotonic() - self.started),
                "fraction": (self.done + step / max(1, total)) / max(1, self.count), "frame": self.done,
                "frames": self.count, "losses": message.get("losses") or {}, "stage": message.get("stage") or ""})
        elif message.type == wire.FRAME and self._check_target():
            try:
                self.target.write_frame(message["frame"], message["image"])
            except (PixelError, ValueError) as exc:
                self.cancel()
                self.fail("%s: %s" % (self.describe_frame(message["frame"]), exc))
                return
            self.done += 1
            if self.first_preview_s is None:
                self.first_preview_s = time.monotonic() - self.started
            self.frame_done.emit(message["frame"])
        elif message.type == wire.RESULT:
            self.peak_memory_mib = message.get("peak_memory_mib")
            self._end(DONE)
            self.finished.emit(self.target.node)
        elif message.type == wire.CANCELLED:
            self._end(CANCELLED, "cancelled")
            self.cancelled.emit()
        elif message.type == wire.ERROR:
            why = message.get("message") or "the backend failed"
            named = re.match(r"frame (\d+) of \d+: (.*)", why, re.S)   # the backend's index in the frames sent
            plan = self.target.plan
            if named and 0 < int(named.group(1)) <= len(plan):
                why = "%s: %s" % (self.describe_frame(int(named.group(1)) - 1), named.group(2))
            self.fail(why)

    def describe_frame(self, index: int) -> str:
        """ "Frame 8 (keyframe 3 of 4)": the timeline's frame number, as the artist sees it."""
        return "Frame %d (keyframe %d of %d)" % (self.target.plan[index].time, index + 1, len(self.target.plan))

    def fail(self, why: str) -> None:
        if self.running():
            self._end(FAILED, "partial")
            self.failed.emit(why)

    def abandon(self) -> None:
        if self.running():
            self.state, self.seconds = CANCELLED, time.monotonic() - self.started
            self._watch.stop()

    def _check_target(self) -> bool:
        if self.target.alive():
            return True
        if self.running():
            self.cancel()
            self._end(CANCELLED, "cancelled")
            self.cancelled.emit()
        return False

    def _end(self, state: str, mark: Optional[str] = None) -> None:
        self.state, self.seconds = state, time.monotonic() - self.started
        self._watch.stop()
        if mark:
            if self.done == 0 and self.target.alive():
                self.target.discard()   # nothing was written: our own empty layer goes
            else:
                self.target.label("%s %d of %d frames" % (mark, self.done, self.count))
        self.ended.emit()
