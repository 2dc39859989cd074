"""One stylisation run, as the plugin sees it: the backend's messages turned into a layer and signals.

A Job writes into a result target, anything with the `ResultTarget` methods: in Krita that is
`layers.ResultLayer`; the tests use one in memory.  A job ends exactly once, as done, failed or
cancelled, and then never writes again.
"""

import time
from typing import Any, Callable, Optional, Protocol

from .core import wire
from .pixels import PixelError
from .qt import QObject, QTimer, pyqtSignal

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
WATCH_MS = 250   # how often a running job checks that its layer is still there (Krita has no signal for it)
# Previews hold the UI while Krita recomposites the document (4096x3072 px: ~0.2 s, ~1.5 s at 16
# bits): one is skipped unless this many times its last write has passed since then.
PREVIEW_SPACING = 10


class ResultTarget(Protocol):
    node: Any                                   # what `finished` hands out (a krita.Node in Krita)
    shows_previews: bool                        # False: only the result is written (live mode)

    def alive(self) -> bool: ...                # still there to be written (not deleted, document open)

    def write(self, image: wire.Image) -> None: ...

    def label(self, mark: str) -> None: ...     # e.g. "[partial]" after the name; also when not alive

    def discard(self) -> None: ...              # remove it: it never showed anything


class Job(QObject):
    progress = pyqtSignal(int, int, dict)  # step, total, {losses, stage, fraction (of the work, by cost)}
    preview = pyqtSignal(int)              # step, after the layer shows it
    finished = pyqtSignal(object)          # the result layer (krita.Node)
    failed = pyqtSignal(str)               # a message for the artist
    cancelled = pyqtSignal()
    note = pyqtSignal(str)                 # something the artist should know, e.g. size lowered
    ended = pyqtSignal()                   # after any of finished, failed, cancelled

    def __init__(self, job_id: int, target: ResultTarget, name: str,
                 send_cancel: Callable[[int], None]) -> None:
        super().__init__()
        self.id, self.target, self.name = job_id, target, name
        self._send_cancel = send_cancel
        self.state = RUNNING
        self.previews = 0
        self.started = time.monotonic()
        self.first_preview_s: Optional[float] = None
        self._last_write = (0.0, 0.0)   # when the last write ended, and what it cost (monotonic seconds)
        self.seconds: Optional[float] = None
        self.peak_memory_mib: Optional[float] = None
        self.warm = False             # the backend started from this layer's last result
        self.work: Any = None         # (working pixel-steps, working (w, h), layer (w, h)), for the estimate
        self.full_resolution = False  # the result was painted at the layer's own size (not scaled up)
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
        """A message from the backend for this job."""
        if not self.running():
            return
        if message.type == wire.PROGRESS:
            if message.get("note"):
                self.note.emit(message["note"])
            self.progress.emit(message["step"], message["total"],
                               {"losses": message.get("losses") or {}, "stage": message.get("stage") or "",
                                "fraction": message.get("fraction")})
            if message.get("preview") is not None and self._preview_due() and self._write(message["preview"]):
                if self.first_preview_s is None:
                    self.first_preview_s = time.monotonic() - self.started
                self.preview.emit(message["step"])
        elif message.type == wire.RESULT:
            self.peak_memory_mib = message.get("peak_memory_mib")
            self.warm = bool(message.get("warm"))
            self.full_resolution = bool(message.get("full_resolution"))
            self._write(message["image"])
            if self.running():
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
        """Krita is closing: end without touching the layer or signalling panels that may be gone."""
        if self.running():
            self.state, self.seconds = CANCELLED, time.monotonic() - self.started
            self._watch.stop()

    def _check_target(self) -> bool:
        """Whether the target is still there.  Undone, deleted, or its document closed mid-run: the job
        is cancelled at once and never writes again."""
        if self.target.alive():
            return True
        if self.running():
            self.cancel()
            self._end(CANCELLED, "cancelled")
            self.cancelled.emit()
        return False

    def _preview_due(self) -> bool:
        """Whether to show this preview: the target wants them, and the UI is not held more than
        1/PREVIEW_SPACING of the time by writing them."""
        ended, cost = self._last_write
        return self.target.shows_previews and time.monotonic() - ended >= PREVIEW_SPACING * cost

    def _write(self, image: wire.Image) -> bool:
        if not self._check_target():
            return False
        started = time.monotonic()
        try:
            self.target.write(image)
        except PixelError as exc:
            self.cancel()
            self.fail(str(exc))
            return False
        ended = time.monotonic()
        self._last_write = (ended, ended - started)
        self.previews += 1
        return True

    def _end(self, state: str, mark: Optional[str] = None) -> None:
        self.state, self.seconds = state, time.monotonic() - self.started
        self._watch.stop()
        if mark:
            if self.previews == 0 and self.target.alive():
                self.target.discard()   # our own empty layer: nothing worth keeping
            else:
                self.target.label(mark)   # also when undone: a redo brings it back marked, not as if done
        self.ended.emit()
