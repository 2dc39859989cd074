"""One animation run as the plugin sees it: the backend's `frame` messages written into an animated result layer.

It offers what the Controller uses of a `job.Job` (id, name, running, handle, cancel, fail, abandon, the
note/finished/failed/cancelled/ended signals), so the controller holds either.  Each frame shows as soon as
it is done; a cancel or a failure keeps the frames done and marks the layer.
"""

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
    progress = pyqtSignal(str, int, int)   # "frame 7 of 24, about 2 min left", step, total of this frame
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
            self.progress.emit(describe_left(self.done, self.count, time.monotonic() - self.started),
                               message["step"], message["total"])
        elif message.type == wire.FRAME and self._check_target():
            try:
                self.target.write_frame(message["frame"], message["image"])
            except (PixelError, ValueError) as exc:
                self.cancel()
                self.fail("frame %d: %s" % (message["frame"] + 1, exc))
                return
            self.done += 1
            self.frame_done.emit(message["frame"])
        elif message.type == wire.RESULT:
            self._end(DONE)
            self.finished.emit(self.target.node)
        elif message.type == wire.CANCELLED:
            self._end(CANCELLED, "cancelled")
            self.cancelled.emit()
        elif message.type == wire.ERROR:
            self.fail(message.get("message") or "the backend failed")

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
