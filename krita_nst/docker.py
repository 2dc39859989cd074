"""The Neural Style Transfer panel: style source, settings, progress and cancel.

It listens to the plugin's owners (the Controller, the StyleChoice, the kritarc Watcher) and updates
only what they say changed; it runs the plugin's actions and never calls the extension.
"""

import time
from typing import Any, Dict, Optional

from krita import DockWidget

from . import actions, api, config, layers, watcher
from .core import backends
from .core.settings import SETTINGS_BY_NAME, Setting
from .estimate import describe as describe_time
from .job import Job
from .qt import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from .setup_panel import SetupPanel
from .style_panel import StylePanel

DOCKER_ID = "krita_nst_docker"
SHOWN = ("strength", "size", "steps", "style_scale", "preserve_colors", "seed")  # the rest: kritarc / API
ESTIMATED_BY = {"size", "steps", watcher.ACTIVE_AREA}   # what the time estimate depends on, besides the device


def _editor(setting: Setting) -> Any:
    """A widget for one setting, built from its definition in the settings schema."""
    if setting.choices:
        widget = QComboBox()
        widget.addItems(list(setting.choices))
        widget.setCurrentText(config.read(setting.name))
        widget.currentTextChanged.connect(lambda v: config.write(setting.name, v))
    else:
        widget = QSpinBox() if setting.type is int else QDoubleSpinBox()
        widget.setRange(setting.low, setting.high)
        if setting.type is float:
            widget.setSingleStep(0.1 if setting.high is not None and setting.high <= 10 else 5)
        widget.setValue(config.read(setting.name))
        widget.valueChanged.connect(lambda v: config.write(setting.name, v))
    widget.setToolTip(setting.help)
    return widget


class StyleDocker(DockWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Neural Style Transfer")
        root = QWidget(self)
        layout = QVBoxLayout(root)
        self.setup = SetupPanel()   # only while no backend can start: Set up backend..., Locate backend...
        layout.addWidget(self.setup)
        self.buttons: Dict[str, Any] = {}
        self._job: Any = None
        self.styles = StylePanel()
        self.style_label = self.styles.label
        self.buttons[actions.SET_STYLE] = self.styles.use_layers
        layout.addWidget(self.styles)
        form = QFormLayout()
        self.editors: Dict[str, Any] = {}
        for name in SHOWN:
            setting = SETTINGS_BY_NAME[name]
            self.editors[name] = _editor(setting)
            form.addRow(setting.label, self.editors[name])
        self.backend = QLineEdit(config.backend_setting())
        self.backend.setPlaceholderText(backends.LOCAL)
        self.backend.setToolTip("Where the backend runs: local (this machine), or ssh://[user@]host[:port]/path to "
                                "krita-nst on another machine, e.g. %s (ssh flags: the ssh_options setting)."
                                % backends.EXAMPLE)
        self.backend.editingFinished.connect(self._set_backend)
        form.addRow("Backend", self.backend)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self._button(actions.STYLIZE, "Stylize"))
        row.addWidget(self._button(actions.CANCEL, "Cancel"))
        row.addWidget(self._button(actions.FINISH, "Finish"))
        row.addWidget(self._button(actions.STYLIZE_ANIMATION, "Stylize Animation"))
        live = self._button(actions.LIVE, "Live")
        live.setCheckable(True)
        row.addWidget(live)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.status = QLabel("Ready.")
        self.status.setWordWrap(True)
        self.device = QLabel("Backend: starts with the first run.")
        self.device.setWordWrap(True)
        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        layout.addWidget(self.estimate)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.device)
        layout.addStretch(1)
        self.setup.connected.connect(self.status.setText)
        self.setWidget(root)
        controller = api.controller()
        controller.job_started.connect(self._watch)
        controller.backend_ready.connect(self._show_backend)
        controller.learned.connect(self._show_estimate)
        controller.live_changed.connect(self._show_live)
        api.style_choice().changed.connect(self._style_changed)
        api.watcher().changed.connect(self._settings_changed)
        self._set_running(False)
        self._show_live(controller.live is not None)
        self.styles.refresh()
        self._show_estimate()

    def _button(self, action: str, text: str) -> Any:
        button = QPushButton(text)
        button.clicked.connect(lambda: self._run(action))
        self.buttons[action] = button
        return button

    def _run(self, action: str) -> None:
        actions.trigger(action)
        if action == actions.LIVE:   # the action may not have run (no window): show what live mode is
            self._show_live(api.controller().live is not None)

    # Slots are bound methods, never lambdas: PyQt disconnects them when the docker is deleted
    # (Krita closing), where a lambda would touch a deleted widget.
    def _show_live(self, on: bool) -> None:
        button = self.buttons[actions.LIVE]
        if button.isChecked() != on:
            button.setChecked(on)

    def canvasChanged(self, canvas: Any) -> None:
        self.styles.refresh()
        self._show_estimate()

    def showEvent(self, event: Any) -> None:
        for action, button in self.buttons.items():   # the artist may have changed the shortcuts
            button.setToolTip(actions.hint(action))
        self.setup.refresh()
        super().showEvent(event)

    def _settings_changed(self, names: Any) -> None:
        """kritarc or the active layer's area changed (the watcher): show what did."""
        for name in set(names) & set(self.editors):
            widget, value = self.editors[name], config.read(name)
            current = widget.currentText() if isinstance(widget, QComboBox) else widget.value()
            if current != value:
                widget.blockSignals(True)   # showing the value must not write it back
                if isinstance(widget, QComboBox):
                    widget.setCurrentText(value)
                else:
                    widget.setValue(value)
                widget.blockSignals(False)
        spec = config.backend_setting()
        if "backend" in names and not self.backend.hasFocus() and self.backend.text() != spec:
            self.backend.setText(spec)
        if "backend" in names:
            self.setup.refresh()
        if ESTIMATED_BY & set(names):
            self._show_estimate()

    def _style_changed(self, document: Optional[Any]) -> None:
        if document is None or document == layers.active_document():
            self.styles.refresh()

    def _show_estimate(self) -> None:
        document = layers.active_document()
        self.estimate.setText(api.estimate(document, document.activeNode() if document is not None else None))

    def _set_running(self, running: bool) -> None:
        self.buttons[actions.STYLIZE].setEnabled(not running)
        self.buttons[actions.FINISH].setEnabled(not running)
        self.buttons[actions.STYLIZE_ANIMATION].setEnabled(not running)
        self.buttons[actions.CANCEL].setEnabled(running)

    def _watch(self, job: Job) -> None:
        self._job = job
        self._set_running(True)
        self.progress.setValue(0)
        self.status.setText("Starting\u2026")
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        job.ended.connect(self._on_ended)

    def _set_backend(self) -> None:
        text = self.backend.text().strip() or backends.LOCAL
        if text == config.backend_setting():
            return
        try:
            config.write_backend_setting(text)
        except backends.BadSpec as exc:
            self.status.setText(str(exc))
            return
        self.device.setText("Backend: %s, starts with the next run." % text)

    def _show_backend(self, description: str) -> None:
        self.device.setText("Backend: " + description)
        self._show_estimate()   # the device is known now

    def _on_finished(self, layer: Any) -> None:
        job = self._job
        peak = ", peak memory %.0f MiB" % job.peak_memory_mib if job.peak_memory_mib else ""
        self.status.setText("Done in %.1f s%s: layer \u201c%s\u201d." % (job.seconds or 0.0, peak, layer.name()))

    def _on_failed(self, why: str) -> None:
        self.status.setText("Failed: " + why)

    def _on_cancelled(self) -> None:
        self.status.setText("Cancelled.")

    def _on_ended(self) -> None:
        self._set_running(False)

    def _on_progress(self, step: int, total: int, info: dict) -> None:
        self.status.setText(progress_text(step, total, info, self._job.started if self._job is not None else None))
        fraction = info.get("fraction")
        done = fraction if isinstance(fraction, (int, float)) else step / max(1, total)
        self.progress.setMaximum(1000)
        self.progress.setValue(round(1000 * min(1.0, max(0.0, done))))


def progress_text(step: int, total: int, info: dict, started: Optional[float]) -> str:
    """"Full resolution 2048x1536 (pass 2 of 2): 40 %, about 1 min left", or "Step 12 of 100, ..." at the working size.

    The time left follows the work (info["fraction"]: steps weighed by their size), not the step count.
    """
    if info.get("text"):   # an animation says where it is itself: "frame 7 of 24, about 2 min left"
        return str(info["text"])[0].upper() + str(info["text"])[1:]
    fraction = info.get("fraction")
    if not isinstance(fraction, (int, float)) or fraction <= 0:
        fraction = step / max(1, total)
    left = ""
    if started is not None and 0 < fraction < 1:
        elapsed = time.monotonic() - started
        left = ", %s left" % describe_time(elapsed / fraction * (1 - fraction))
    stage = str(info.get("stage") or "")
    if stage.startswith("full resolution"):
        return "%s: %d %%%s" % (stage[0].upper() + stage[1:], round(100 * fraction), left)
    return "Step %d of %d%s" % (step, total, left)
