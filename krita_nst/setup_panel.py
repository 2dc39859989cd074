"""The docker's setup panel, shown while no backend can start: Set up backend… (a Python found or picked, the
krita-nst folder, install.py run with its output and progress, Cancel) and Locate backend… (a krita-nst folder
set up already).  The logic is in setup.py and setup_run.py; this module only shows it."""

import sys
from typing import Any, Optional

from krita import Krita

from . import api, config, setup, setup_run
from .qt import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    pyqtSignal,
)

DEFAULT_VENV = ("default: %LOCALAPPDATA%\\krita-nst\\venv" if sys.platform == "win32"
                else "default: .venv in the krita-nst folder")


def _picker(edit: Any, choose: Any) -> Any:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    button = QPushButton("\u2026")
    button.setToolTip("Choose with a file dialog")
    button.clicked.connect(choose)
    row.addWidget(button)
    return row


class SetupPanel(QWidget):
    connected = pyqtSignal(str)   # the backend was set up or located and is starting: what to tell the artist

    def __init__(self, parent: Optional[Any] = None) -> None:
        super().__init__(parent)
        self.finder = setup.Finder(parent=self)
        self.finder.done.connect(self._found)
        self.installer = setup_run.Installer(self)
        self.installer.output.connect(self._output)
        self.installer.progress.connect(self._progress)
        self.installer.finished.connect(self._finished)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        row = QHBoxLayout()
        self.setup_button = QPushButton("Set up backend\u2026")
        self.setup_button.setToolTip("Install the backend (a Python venv with torch, about 1 GB; a GPU build more) "
                                     "with krita-nst's install.py, from here")
        self.setup_button.clicked.connect(self.begin_setup)
        self.locate_button = QPushButton("Locate backend\u2026")
        self.locate_button.setToolTip("Connect a krita-nst folder where install.py ran already")
        self.locate_button.clicked.connect(self.locate)
        row.addWidget(self.setup_button)
        row.addWidget(self.locate_button)
        layout.addLayout(row)
        self.form = QWidget()
        form = QFormLayout(self.form)
        form.setContentsMargins(0, 0, 0, 0)
        self.python_edit = QLineEdit()
        self.python_edit.setToolTip("A 64-bit Python %d.%d to %d.%d to run install.py with" % (
            setup.PYTHONS[0] + setup.PYTHONS[1]))
        form.addRow("Python", _picker(self.python_edit, self.choose_python))
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("the krita-nst folder (release or checkout)")
        self.folder_edit.setToolTip("The unpacked krita-nst release (or its git checkout) this plugin comes from: "
                                    "the folder holding install.py")
        form.addRow("krita-nst", _picker(self.folder_edit, self.choose_folder))
        self.venv_edit = QLineEdit()
        self.venv_edit.setPlaceholderText(DEFAULT_VENV)
        self.venv_edit.setToolTip("Where the backend's venv goes (install.py --venv)")
        form.addRow("Venv", _picker(self.venv_edit, self.choose_venv))
        buttons = QHBoxLayout()
        self.install_button = QPushButton("Install")
        self.install_button.clicked.connect(self.install)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.installer.cancel)
        buttons.addWidget(self.install_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        form.addRow(self.bar)
        self.stage = QLabel()
        self.stage.setWordWrap(True)
        form.addRow(self.stage)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(1000)
        self.output.setFixedHeight(110)
        form.addRow(self.output)
        self.form.hide()
        layout.addWidget(self.form)
        api.controller().backend_ready.connect(self._backend_ready)
        Krita.instance().notifier().applicationClosing.connect(self.installer.cancel)
        self._update_buttons()
        self.refresh()

    def refresh(self) -> None:
        """Shown while no backend can start (or a setup runs); hidden once one can."""
        problem = config.backend_problem()
        if problem is not None:
            self.note.setText(problem.split("\n")[0] + " Set it up here:")
        self.setVisible(problem is not None or self.installer.running())

    def begin_setup(self) -> None:
        self.form.show()
        if not self.folder_edit.text():
            self.folder_edit.setText(setup.known_folder())
        if not self.python_edit.text() and not self.finder.running():
            self.stage.setText("Looking for Python 3.%d to 3.%d\u2026" % (setup.PYTHONS[0][1], setup.PYTHONS[1][1]))
            self.finder.start()

    def _found(self, python: Optional[setup.Python], why: str) -> None:
        if python is None:
            self.stage.setText(why)
            return
        self.python_edit.setText(python.path)
        self.stage.setText("%s found. Press Install (it downloads about 1 GB of torch and more)." % python.describe())

    def choose_python(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "The Python to install the backend with")
        if path:
            self.python_edit.clear()
            self.stage.setText("Checking %s\u2026" % path)
            self.finder.start([[path]])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "The krita-nst folder (the unpacked release or its checkout)")
        if folder:
            self.folder_edit.setText(folder)

    def choose_venv(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Where the backend's venv goes")
        if folder:
            self.venv_edit.setText(folder)

    def install(self) -> None:
        python = self.python_edit.text().strip()
        if not python:
            self.stage.setText("Pick a Python first (the \u2026 button beside Python).")
            return
        try:
            root = setup.check_folder(self.folder_edit.text() or "")
        except setup.SetupError as exc:
            self.stage.setText(str(exc))
            return
        self.finder.stop()
        Krita.instance().writeSetting(config.GROUP, "checkout", root)   # known next time (setup.known_folder)
        self.output.clear()
        self.bar.setValue(0)
        self.stage.setText("Starting install.py\u2026")
        self.installer.start(python, root, self.venv_edit.text().strip())
        self._update_buttons()

    def _output(self, line: str) -> None:
        self.output.appendPlainText(line)

    def _progress(self, percent: int, what: str) -> None:
        self.bar.setValue(percent)
        self.stage.setText(what)

    def _finished(self, ok: bool, message: str) -> None:
        self.stage.setText(message)
        self._update_buttons()
        if ok:
            self._connect(message)
        else:
            self.refresh()

    def locate(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A krita-nst folder set up already (where install.py ran)")
        if folder:
            self.locate_folder(folder)

    def locate_folder(self, folder: str) -> None:
        try:
            python, root = setup.locate(folder)
            config.write_backend_file(python, root)
        except (setup.SetupError, OSError) as exc:
            self.note.setText(str(exc))
            return
        self._connect("Connected the backend in %s." % root)

    def _connect(self, message: str) -> None:
        """The controller reads backend.json again and starts the backend (its hello shows in the docker)."""
        try:
            api.controller().backend()
        except Exception as exc:   # e.g. BackendMissing, a Python that does not start: say it, stay offered
            self.note.setText("%s But it does not start: %s" % (message, exc))
            self.refresh()
            return
        self.form.hide()
        self.refresh()
        self.connected.emit(message + " Starting it\u2026")

    def _backend_ready(self, _description: str) -> None:
        self.refresh()

    def _update_buttons(self) -> None:
        running = self.installer.running()
        for widget in (self.setup_button, self.locate_button, self.install_button, self.python_edit,
                       self.folder_edit, self.venv_edit):
            widget.setEnabled(not running)
        self.cancel_button.setEnabled(running)
