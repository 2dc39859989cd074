"""The Neural Style Transfer panel: style source, settings, progress and cancel."""

from krita import DockWidget, Krita
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar,
                             QPushButton, QSpinBox, QVBoxLayout, QWidget)

from . import api, config, extension
from .wire import SETTINGS_BY_NAME

DOCKER_ID = "krita_nst_docker"
SHOWN = ("strength", "size", "steps", "style_scale", "preserve_colors", "seed")  # the rest: kritarc / API


def _editor(setting):
    """A widget for one setting, built from its definition in the wire format."""
    if setting.choices:
        widget = QComboBox()
        widget.addItems(list(setting.choices))
        widget.setCurrentText(config.read(setting.name))
        widget.currentTextChanged.connect(lambda v: config.write(setting.name, v))
    else:
        widget = QSpinBox() if setting.type is int else QDoubleSpinBox()
        widget.setRange(setting.low, setting.high)
        if setting.type is float:
            widget.setSingleStep(0.1 if setting.high <= 10 else 5)
        widget.setValue(config.read(setting.name))
        widget.valueChanged.connect(lambda v: config.write(setting.name, v))
    widget.setToolTip(setting.help)
    return widget


class StyleDocker(DockWidget):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("Neural Style Transfer")
        root = QWidget(self)
        layout = QVBoxLayout(root)
        self.style_label = QLabel()
        self.style_label.setWordWrap(True)
        use_style = QPushButton("Use active layer as style")
        use_style.clicked.connect(lambda: Krita.instance().action(extension.SET_STYLE).trigger())
        layout.addWidget(self.style_label)
        layout.addWidget(use_style)
        form = QFormLayout()
        for name in SHOWN:
            setting = SETTINGS_BY_NAME[name]
            form.addRow(setting.label, _editor(setting))
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.run_button = QPushButton("Stylize")
        self.run_button.setToolTip("Stylise the active layer (Ctrl+Alt+Shift+N)")
        self.run_button.clicked.connect(lambda: Krita.instance().action(extension.STYLIZE).trigger())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: Krita.instance().action(extension.CANCEL).trigger())
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.progress = QProgressBar()
        self.status = QLabel("Ready.")
        self.status.setWordWrap(True)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.setWidget(root)
        api.events.job_started.connect(self._watch)
        api.events.style_changed.connect(self._show_style)
        self._set_running(False)
        self._show_style()

    def canvasChanged(self, canvas):
        self._show_style()

    def _show_style(self):
        document = Krita.instance().activeDocument()
        nodes = extension.style_nodes(document) if document is not None else []
        self.style_label.setText("Style: " + (", ".join(n.name() for n in nodes) if nodes else "none chosen"))

    def _set_running(self, running):
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _watch(self, job):
        self._set_running(True)
        self.progress.setValue(0)
        self.status.setText("Starting\u2026")
        job.progress.connect(self._on_progress)
        job.note.connect(extension.notify)
        job.finished.connect(lambda layer: self._ended("Done in %.1f s: layer \u201c%s\u201d." % (job.seconds, layer.name())))
        job.failed.connect(lambda why: self._ended("Failed: " + why))
        job.cancelled.connect(lambda: self._ended("Cancelled."))

    def _on_progress(self, step, total, losses):
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(step)
        self.status.setText("Step %d of %d" % (step, total))

    def _ended(self, text):
        self._set_running(False)
        self.status.setText(text)
