"""Live mode: one result layer that follows its content layer while the artist paints.

Krita has no pixel-change signal for Python, so a timer polls checksums of the content's pixels (a
band of rows at a time on a big layer: scan.py), the style and the settings; when they change and
then stay still for DEBOUNCE_MS, the live layer is re-stylised at `live_size`, warm from its last
result (the backend keeps it per key).  An update overtaken by new strokes is cancelled.  After a
change of settings one more update follows, from where the first left off (a warm run goes only
part of the way to a new balance).  The UI thread only polls, sends a job and writes finished
results; the time each takes is measured (`max_block_ms`).  A big layer is never read or converted
whole for an update: the scan's own reads keep the content at the working size, and the style is
read once (again when it changes).  The content layer is never written.
"""

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from krita import Document, Node

from . import config, estimate, layers, pixels, request, styles
from .controller import Controller
from .core.settings import check_settings
from .core.sizes import working_size
from .job import Job
from .qt import QObject, QTimer, pyqtSignal

log = logging.getLogger("krita_nst")
POLL_MS = 250        # a band of the content layer checksummed this often
DEBOUNCE_MS = 1000   # ... and an update once it has been still this long
MARK = " [live]"
CPU_SECONDS = 3.5    # the backend's share of the <= 5 s from a stroke's end to the live layer (debounce: 1 s)


def live_size(speeds: Dict[str, float], device: str, rect: Any) -> int:
    """kritarc's live_size, or the device's default: 768 px on a GPU; on a CPU 256 px, or less where
    the runs so far say an update there would take more than CPU_SECONDS (at 256 px an AVX2-only
    2-core CPU took 7.8 s; an AVX-512 one is ~3.5x faster)."""
    size = config.read("live_size")
    if size:
        return size
    if not device and len(speeds) == 1:   # before the backend's hello: the one device the runs so far were on
        device = next(iter(speeds))
    if device.startswith(("cuda", "mps")):
        return 768
    return estimate.fitting_size(speeds, device, rect.width(), rect.height(), CPU_SECONDS, 256)


class _LiveTarget:
    """The live layer as a job's target: written by every update, never discarded or marked by one.
    It shows results only: a preview is an update's unfinished state, and writing one holds the UI
    (a full refresh: ~0.1 s on a 4096x3072 px document, ~1 s at 16 bits)."""

    shows_previews = False

    def __init__(self, layer: layers.ResultLayer, session: "LiveSession") -> None:
        self.layer, self.node, self.session = layer, layer.node, session

    def alive(self) -> bool:
        return self.layer.alive()

    def write(self, image: Any) -> None:
        started = time.perf_counter()
        self.layer.write(image)
        self.session.note_block(time.perf_counter() - started, "write")

    def label(self, mark: str) -> None:
        pass

    def discard(self) -> None:
        pass


@dataclass(frozen=True)
class State:
    """What an update is made of, as a poll sees it; two polls with equal states need no new update."""
    content: int                 # changes the content scan has seen
    settings: Tuple[Any, ...]    # kritarc's job settings, sorted
    size: int                    # the working size
    styles: Tuple[Any, ...]      # the sources, and each style layer's fingerprint


Prepare = Callable[..., request.JobRequest]   # request.prepare with the controller bound


class LiveSession(QObject):
    updated = pyqtSignal(float)   # seconds from the last change seen to the live layer showing it
    stopped = pyqtSignal(str)     # why ("" when the artist turned it off)

    def __init__(self, controller: Controller, prepare: Prepare, document: Document, content: Node,
                 style_items: request.StyleItems) -> None:
        """style_items: what request.prepare takes (style sources, nodes); prepare(document, content, items,
        read_content=False) checks them all before a layer is made."""
        super().__init__()
        started = time.perf_counter()
        # The worst of each kind of step on the UI thread, in ms.
        self.blocks_ms = {"turn_on": 0.0, "poll": 0.0, "update": 0.0, "write": 0.0}
        self.controller, self.document, self.content = controller, document, content
        self.sources = request.sources_of(style_items)
        self._sources_key = json.dumps(self.sources, sort_keys=True)
        self.key = "live:" + layers.node_id(content)
        first = prepare(document, content, self.sources, read_content=False)
        self.rect, self.mask, self.name = first.rect, first.mask, first.name
        self.layer = layers.ResultLayer(document, content, first.name + MARK, self.rect, self.mask)
        self._size: Tuple[Any, int] = (None, 0)
        self._scan_size = self.size
        self.scan = layers.scanner(content, self.rect, self._scan_size)
        self._styles: Tuple[Any, List[request.StyleImage]] = (None, [])   # (what they were read for, images)
        self._style_images(first.settings, first.styles)
        self.job: Optional[Job] = None
        self.active = True
        self.updates, self.latencies = 0, []   # type: ignore[var-annotated]
        self._seen: Optional[State] = None    # the state last polled
        self._done: Optional[State] = None    # the state the live layer shows (or is being made to show)
        self._shown_settings: Optional[Tuple[Any, ...]] = None   # the settings of the last finished update
        self._refine = False          # one more update of the same state is due (after a change of settings)
        self._changed_at = time.monotonic()
        self._poll = QTimer(self)
        self._poll.timeout.connect(self._tick)
        self._still = QTimer(self)
        self._still.setSingleShot(True)
        self._still.timeout.connect(self._update)
        self._poll.start(POLL_MS)
        self._tick()
        self.note_block(time.perf_counter() - started, "turn_on")   # the checks, the style's export, a first pass

    def note_block(self, seconds: float, kind: str) -> None:
        self.blocks_ms[kind] = max(self.blocks_ms[kind], seconds * 1000.0)
        if seconds > 0.05:
            log.info("live mode's %s held Krita's UI for %.0f ms", kind, seconds * 1000.0)

    @property
    def max_block_ms(self) -> float:
        return max(self.blocks_ms.values())

    @property
    def size(self) -> int:
        """The updates' working size: chosen once (the backend keeps a warm start for one size), and again
        only when kritarc's live_size or the device (known once the backend says) changes."""
        chosen = (config.read("live_size"), self.controller.device)
        if chosen != self._size[0]:
            self._size = (chosen, live_size(self.controller.speeds, chosen[1], self.rect))
        return self._size[1]

    def _styles_key(self) -> Tuple[Any, ...]:
        """The sources and what each style layer shows now (cheap: Krita keeps layer thumbnails)."""
        return (self._sources_key,) + tuple(layers.fingerprint(node) for node, _ in
                                            styles.nodes(self.document, self.sources))

    def _state(self) -> State:
        started = time.perf_counter()
        if self.size != self._scan_size:   # the content is kept at the working size: read it again at the new one
            self._scan_size = self.size
            self.scan = layers.scanner(self.content, self.rect, self._scan_size)
        state = State(self.scan.poll(), tuple(sorted(config.job_settings().items())), self.size, self._styles_key())
        self.note_block(time.perf_counter() - started, "poll")
        return state

    def _tick(self) -> None:
        if not (self.layer.alive() and layers.is_open(self.document) and self.content.parentNode() is not None):
            self.stop("the live layer, its content layer or its document is gone")
            return
        state = self._state()
        if state != self._seen:
            self._seen, self._changed_at = state, time.monotonic()
            self._still.start(DEBOUNCE_MS)    # (re)started: wait until the artist pauses

    def _update(self) -> None:
        started = time.perf_counter()   # exporting the layers and sending the job run on the UI thread too
        try:
            self._start_update()
        finally:
            self.note_block(time.perf_counter() - started, "update")

    def _start_update(self) -> None:
        if not self.active or (self._seen == self._done and not self._refine):
            return
        ctl = self.controller
        if self.job is not None and self.job.running():
            self.job.cancel()                  # overtaken: its end starts the next update
            return
        if ctl.busy():                         # an ordinary run is going: try again after it
            self._still.start(DEBOUNCE_MS)
            return
        state = self._seen
        try:
            settings = check_settings(dict(config.job_settings(), size=self.size, preview_every=1000,
                                           resolution="working"))   # live: the working size, scaled up
            layers.require_pixels(self.content)
            kept = self.scan.keep   # the content at the working size, from the scan's reads (see layers.scanner)
            content = kept.image() if kept is not None else layers.export(self.content, self.rect)[0]
            images = self._style_images(settings)
        except Exception as exc:   # the layer became unusable (emptied, ...): say so, stop
            self.stop(str(exc))
            return
        self.job = ctl.submit(content, images, settings, _LiveTarget(self.layer, self), self.name + MARK,
                              key=self.key)
        self._done, self._refine = state, False
        self.job.finished.connect(self._finished)
        self.job.ended.connect(self._ended)

    def _style_images(self, settings: Dict[str, Any], exported: Optional[List[Any]] = None) -> List[Dict[str, Any]]:
        """The styles' images (`exported` when just read), read again only when the style, its scale or a
        style layer's pixels change, and no bigger than an update can use (4x the working size's
        pixels, x style_scale²)."""
        w, h = working_size(self.rect.width(), self.rect.height(), self.size)
        most = int(4 * w * h * max(1.0, settings["style_scale"]) ** 2)
        key = (self._styles_key(), most)
        if key != self._styles[0]:
            if exported is None:
                _, exported = request.style_images(self.document, self.content, self.sources)
            self._styles = (key, [dict(s, image=pixels.shrunk(s["image"], most)) for s in exported])
        return self._styles[1]

    def _finished(self, _node: Any) -> None:
        self.updates += 1
        self.latencies.append(time.monotonic() - self._changed_at)
        self.updated.emit(self.latencies[-1])

    def _ended(self) -> None:
        job = self.job
        if job is not None and job.state != "done":
            self._done = None                  # not shown: the next update redoes it
        elif job is not None:
            # A warm update reaches a new strength (or another setting) only part of the way: the next, with
            # nothing changed, goes on from there (docs/benchmark.md: style within 2-3 % of a cold run's).
            # Decided here, not in _finished: a job says it ended before it says it finished.
            settings = self._done.settings if self._done is not None else None
            self._refine = self._shown_settings is not None and settings != self._shown_settings
            self._shown_settings = settings
        if self.active and (self._seen != self._done or self._refine):
            self._still.start(0 if job is not None and job.state == "cancelled" else DEBOUNCE_MS)

    def stop(self, why: str = "", quiet: bool = False) -> None:
        """Live mode off: the last result stays as an ordinary layer (none yet: the empty layer goes)."""
        if not self.active:
            return
        self.active = False
        self._poll.stop()
        self._still.stop()
        if self.job is not None and self.job.running():
            if quiet:
                self.job.abandon()
            else:
                self.job.cancel()
        if not quiet and self.layer.alive():
            if self.updates:
                self.layer.node.setName(self.name)
            else:
                self.layer.discard()
        log.info("live mode off for %s after %d updates (max UI block %.1f ms)%s", self.name, self.updates,
                 self.max_block_ms, ": " + why if why else "")
        if not quiet:
            self.stopped.emit(why)
