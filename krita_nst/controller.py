"""The plugin's running state, in one owned object: the backend client, the running job, live mode,
and the signals that panels listen to (each document's style has its own owner: style_choice).

Krita-free on purpose: the Krita side (exporting layers, creating the result layer) happens in
`api` and `layers`; this module only needs Qt, so the tests drive it with PyQt5 from pip against a
real backend process.
"""

import itertools
from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple

from . import estimate, pixels
from .client import BackendClient
from .core import backends, settings, wire
from .core.sizes import AUTO_FULL_SECONDS, full_work, passes, working_size
from .job import Job, ResultTarget
from .qt import QObject, pyqtSignal


class Busy(Exception):
    """A job is already running."""


class LiveMode(Protocol):
    """What the controller needs of a live session (live.LiveSession)."""
    stopped: Any   # pyqtSignal(str): why it stopped by itself ("" when turned off)

    def stop(self, why: str = "", quiet: bool = False) -> None: ...


class Controller(QObject):
    job_started = pyqtSignal(object)   # Job
    live_changed = pyqtSignal(bool)    # live mode on/off; also after a failed start (a pressed toggle goes back)
    message = pyqtSignal(str)          # something for the artist that no caller is waiting for
    backend_ready = pyqtSignal(str)    # e.g. "cpu, bf16 (krita-nst 0.2.0)", + " on HOST" when remote
    learned = pyqtSignal()             # `speeds` changed (a cold run finished)

    def __init__(self, locate_backend: Callable[[], backends.Backend], log_path: Callable[[], str]) -> None:
        """locate_backend: () -> backends.Backend (local or ssh), read on each use; raises with a message when
        it is not installed or the setting is unusable."""
        super().__init__()
        self._locate_backend, self._log_path = locate_backend, log_path
        self._client: Optional[BackendClient] = None
        self._job: Optional[Job] = None
        self._live: Optional[LiveMode] = None
        self._ids = itertools.count(1)
        self.device = ""          # the running backend's device, from its hello ("cpu, bf16", "cuda (...)")
        self.speeds: Dict[str, float] = {}   # device -> seconds per step per megapixel (estimate.py)

    # --- the backend ---
    def backend(self) -> BackendClient:
        """The running backend client, started if needed (raises what locate_backend raises)."""
        where = self._locate_backend()
        if self._client is None or self._client.backend != where:   # the setting changed: restart
            self.stop_backend()
            self._client = BackendClient(where, self._log_path(), self)
            self._client.message.connect(self._dispatch)
            self._client.died.connect(self._on_backend_died)
        self._client.start()
        return self._client

    def backend_pid(self) -> Optional[int]:
        """The backend's process id while it runs (for tests and diagnostics)."""
        return self._client.pid() if self._client is not None else None

    def stop_backend(self) -> None:
        if self._client is not None:
            self._client.stop()
            self._client.deleteLater()
            self._client = None

    def shutdown(self) -> None:
        """Krita is closing: leave the layers alone, stop the backend."""
        if self._live is not None:
            self._live.stop(quiet=True)
            self._live = None
        if self._job is not None:
            self._job.abandon()
        self.stop_backend()

    # --- jobs ---
    def busy(self) -> bool:
        return self._job is not None and self._job.running()

    def current_job(self) -> Optional[Job]:
        return self._job if self.busy() else None

    def check_idle(self) -> None:
        if self.busy():
            assert self._job is not None
            raise Busy("Already stylising %s; cancel it or wait for it to finish." % self._job.name)

    def submit(self, content: wire.Image, styles: List[Dict[str, Any]], job_settings: Dict[str, Any],
               target: ResultTarget, name: str, key: str = "", start: Optional[wire.Image] = None) -> Job:
        """Send a job to the backend; its previews and result go to target.

        styles: [{"image": wire.Image, "weight": float}].  key: the content's thread of runs (its layer id):
        the backend starts from the last result of the same key and style when it has one (warm).  If
        anything fails before the job is sent, the target is discarded and the controller stays free.
        start: an earlier result of this content, to finish at full resolution (the working scales skipped).
        Over ssh the images travel as PNG.
        """
        def make(job_id: int, encoding: str, checked: Dict[str, Any]) -> Tuple[Job, Dict[str, Any]]:
            job = Job(job_id, target, name, self._send_cancel)
            w, h = working_size(content.width, content.height, checked["size"])
            job.work = (w * h * (0 if start is not None else checked["steps"]), (w, h), (content.width, content.height))
            fields: Dict[str, Any] = dict(content=pixels.encoded(content, encoding), **({"key": key} if key else {}))
            if start is not None:
                fields["start"] = pixels.encoded(start, encoding)
            return job, fields
        job = self._send(wire.JOB, target, styles, job_settings, make)
        job.finished.connect(self._learn)
        return job

    def _send(self, kind: str, target: Any, styles: List[Dict[str, Any]], job_settings: Dict[str, Any],
              make: Callable[[int, str, Dict[str, Any]], Tuple[Any, Dict[str, Any]]]) -> Any:
        """Check, make the job (make(id, encoding, checked settings) -> (job, its message's own fields)) and
        send it; if anything fails before it is sent, the target is discarded and the controller stays free."""
        try:
            self.check_idle()
            checked = settings.check_settings(job_settings)
            client = self.backend()
            encoding = client.backend.transfer
            styles = [dict(style, image=pixels.encoded(style["image"], encoding)) for style in styles]
            job, fields = make(next(self._ids), encoding, checked)
            client.send(kind, id=job.id, styles=styles, settings=checked, encoding=encoding, **fields)
        except BaseException:
            target.discard()
            raise
        self._job = job
        job.note.connect(self.message)
        self.job_started.emit(job)
        return job

    def submit_animation(self, frames: List[Optional[wire.Image]], styles: List[Dict[str, Any]],
                         job_settings: Dict[str, Any], target: Any, name: str) -> Any:
        """Send an animation's frames (None: an empty frame) as one job; each done frame goes to target
        (animation.AnimatedResultLayer) as it comes.  Returns an AnimationJob; as submit, a failure before
        it is sent discards the target and leaves the controller free."""
        from .animation_job import AnimationJob  # only once animation is used

        def make(job_id: int, encoding: str, _checked: Dict[str, Any]) -> Tuple[Any, Dict[str, Any]]:
            encoded = [None if f is None else pixels.encoded(f, encoding) for f in frames]
            return AnimationJob(job_id, target, name, self._send_cancel), {"frames": encoded}
        return self._send(wire.ANIMATE, target, styles, job_settings, make)   # an AnimationJob acts as a Job here

    def time_estimate(self, width: int, height: int, job_settings: Dict[str, Any],
                      ) -> Tuple[Tuple[int, int], Optional[float], bool]:
        """(working size, seconds or None, goes on to full resolution) of a run on a width x height area."""
        w, h = working_size(width, height, job_settings["size"])
        seconds = estimate.seconds(self.speeds, self.device, w * h, job_settings["steps"])
        full = estimate.full_seconds(self.speeds, self.device, (w, h), (width, height))
        goes_on = bool(passes((w, h), (width, height))) and job_settings["resolution"] != "working" and (
            job_settings["resolution"] == "full" or self.device.startswith("cuda")
            or (full is not None and full <= AUTO_FULL_SECONDS))
        if goes_on and seconds is not None and full is not None:
            seconds += full
        return (w, h), seconds, goes_on

    def _learn(self, _node: Any) -> None:
        job = self._job
        if job is not None and job.work and not job.warm and job.seconds:
            units, working, layer = job.work
            if job.full_resolution:
                units += full_work(working, layer)
            estimate.learn(self.speeds, self.device, units, job.seconds)
            self.learned.emit()

    def cancel(self) -> None:
        if self.busy():
            assert self._job is not None
            self._job.cancel()

    def _send_cancel(self, job_id: int) -> None:
        if self._client is not None and self._client.running():
            self._client.send(wire.CANCEL, id=job_id)

    def _dispatch(self, message: wire.Message) -> None:
        if message.type == wire.HELLO:
            self.device = str(message.get("device") or "")
            where = self._client.backend.where() if self._client is not None else ""
            self.backend_ready.emit("%s (krita-nst %s)%s" % (message.get("device"), message.get("backend_version"),
                                                             where))
            return
        job = self._job
        if job is None:
            return
        if message.get("id") == job.id or (message.type == wire.ERROR and message.get("id") is None):
            job.handle(message)

    def _on_backend_died(self, why: str) -> None:
        # The next job starts a fresh backend (BackendClient.send starts it).
        if self._job is not None:
            self._job.fail(why)

    # --- live mode ---
    @property
    def live(self) -> Any:
        """The live session while live mode is on, else None."""
        return self._live

    def start_live(self, make: Callable[[], LiveMode]) -> None:
        """Live mode on with the session make() builds (any session before is turned off first); what make
        raises is raised, with live_changed(False)."""
        self.stop_live()
        try:
            session = make()
        except BaseException:
            self.live_changed.emit(False)
            raise
        self._live = session
        session.stopped.connect(self._live_stopped)
        self.live_changed.emit(True)

    def stop_live(self) -> None:
        """Live mode off (the session leaves its last result as an ordinary layer)."""
        session, self._live = self._live, None
        if session is not None:
            session.stopped.disconnect(self._live_stopped)
            session.stop()
            self.live_changed.emit(False)

    def _live_stopped(self, why: str) -> None:
        """The session stopped by itself (its layer or document is gone, a layer error)."""
        self._live = None
        self.live_changed.emit(False)
        if why:
            self.message.emit("Live mode stopped: %s." % why.rstrip("."))   # a LayerError ends with its own stop
