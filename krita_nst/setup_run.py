"""install.py run from inside Krita (Set up backend): in a QProcess, never blocking Krita, each line it prints
passed on and kept in install.log, the progress read from those lines, Cancel ending every process it started.

install.py gets this Krita's own resource folder and kritarc, so the backend.json it writes is the one the
plugin reads (config.backend_files()); its exit code says how it went: 0 done, 2 a message for the artist
(its last "[install] cannot go on: ..." line), 1 a step failed."""

import codecs
import os
import re
import signal
import subprocess
import sys
from typing import Any, Callable, List, Optional, Tuple

from . import config
from .client import STRIPPED_ENV
from .qt import QIODevice, QObject, QProcess, QProcessEnvironment, QStandardPaths, pyqtSignal

# POSIX: install.py leads its own process group, so that Cancel ends pip and every other child with it.
SESSION = "import os, sys; os.setsid(); os.execv(sys.executable, [sys.executable] + sys.argv[1:])"
# What install.py prints as a step starts: (how the line starts, or a pattern; percent done then; what it does).
STAGES: List[Tuple[Any, int, str]] = [
    ("[install] torch build for this machine", 3, "Choosing the torch build for this machine"),
    (re.compile(r"^\[install\] \$ .* -m venv "), 5, "Making the backend's venv"),
    ("[install] installing torch", 10, "Installing torch: the longest step (minutes; a GPU build is GBs)"),
    ("[install] the venv's torch:", 70, "Checking what torch can use"),
    (re.compile(r"^\[install\] torch .* is already in the venv"), 70, "Checking what torch can use"),
    (re.compile(r"^\[install\] \$ .*pip install .*requirements\.txt"), 75, "Installing the backend's other packages"),
    ("[install] fetching the VGG19 weights", 85, "Fetching the VGG19 weights"),
    ("[install] plugin installed in", 95, "Connecting the plugin to the backend"),
    ("[install] done.", 100, "Done"),
]
FAILED = "[install] cannot go on: "
STOPPED = "[install] stopped: "


def stage(line: str) -> Optional[Tuple[int, str]]:
    """(percent, what it does now) when line starts a step of install.py."""
    for start, percent, what in STAGES:
        if start.match(line) if isinstance(start, re.Pattern) else line.startswith(start):
            return percent, what
    return None


def kritarc() -> str:
    """The settings file this Krita reads (KConfig's kritarc, in Qt's generic config folder)."""
    return os.path.join(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation),
                        "kritarc")


def install_command(python: str, root: str, resources: str, rc: str, venv: str = "",
                    system: str = sys.platform) -> List[str]:
    """install.py for this Krita: its resource folder and kritarc, no demo; on POSIX as a process group's leader."""
    argv = [os.path.join(root, "install.py"), "--no-demo", "--krita-dir", resources, "--kritarc", rc]
    argv += ["--venv", venv] if venv else []
    return [python, "-u"] + (["-c", SESSION] if system != "win32" else []) + argv


def kill_tree(pid: int, system: str = sys.platform, run: Callable[..., Any] = subprocess.run,
              killpg: Callable[[int, int], None] = getattr(os, "killpg", lambda *_: None)) -> None:
    """End install.py and everything it started (pip, the venv's Python)."""
    if system == "win32":   # /T: the whole tree; CREATE_NO_WINDOW: no console flashes up
        run(["taskkill", "/PID", str(pid), "/T", "/F"], capture_output=True, creationflags=0x08000000)
        return
    try:
        killpg(pid, getattr(signal, "SIGKILL", 9))   # its group: install.py made itself the leader (SESSION)
    except OSError:
        pass


def outcome(code: int, lines: List[str], log: str) -> str:
    """What to tell the artist when install.py did not finish well."""
    where = "\nEverything it printed is in %s." % log
    if code == 2:
        said = [line[len(FAILED):] for line in lines if line.startswith(FAILED)]
        if said:
            return "The setup cannot go on: %s%s" % (said[-1], where)
    stopped = [line[len(STOPPED):] for line in lines if line.startswith(STOPPED)]
    if stopped:
        return "The setup stopped: %s%s" % (stopped[-1], where)
    tail = [line for line in lines[1:] if line.strip()][-3:]   # (lines[0]: the command, as the log shows it)
    return "install.py ended with exit code %d%s%s" % (code, ":\n" + "\n".join(tail) if tail else "", where)


class Installer(QObject):
    output = pyqtSignal(str)            # each line install.py (or pip) prints
    progress = pyqtSignal(int, str)     # percent done, what it does now (from its lines; never goes back)
    finished = pyqtSignal(bool, str)    # whether the backend is set up now, and what to tell the artist

    def __init__(self, parent: Optional[Any] = None, system: str = sys.platform,
                 kill: Callable[[int], None] = kill_tree) -> None:
        super().__init__(parent)
        self.system, self._kill = system, kill
        self._process: Optional[Any] = None
        self._lines: List[str] = []
        self._partial = ""
        self._decoder: Any = None
        self._log: Any = None
        self._cancelled = False
        self.percent = 0
        self.log_path = ""

    def running(self) -> bool:
        return self._process is not None

    def start(self, python: str, root: str, venv: str = "", resources: Optional[str] = None,
              rc: Optional[str] = None) -> None:
        """Run install.py from root with python; `finished` always follows, also when it cannot start."""
        if self.running():
            return
        resources = resources or config.resource_folder()
        if not resources:
            self.finished.emit(False, "Krita did not say where its resource folder is, so install.py cannot be "
                                      "told where the plugin is. Run install.py yourself (README: Installing).")
            return
        self._lines, self._partial, self._cancelled, self.percent = [], "", False, 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        try:
            self.log_path = os.path.join(config.log_folder(), "install.log")
            self._log = open(self.log_path, "w", encoding="utf-8")
        except OSError as exc:   # the output is still shown, only not kept
            self.log_path, self._log = "(no log file: %s)" % exc, None
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        for name in STRIPPED_ENV:
            env.remove(name)
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("PYTHONIOENCODING", "utf-8")   # install.py prints ▸; a Windows pipe's code page has none
        process.setProcessEnvironment(env)
        process.setWorkingDirectory(root)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(self._done)
        process.errorOccurred.connect(self._error)
        self._process = process
        command = install_command(python, root, resources, rc or kritarc(), venv, self.system)
        self._line("$ " + " ".join(command))
        process.start(command[0], command[1:], QIODevice.OpenModeFlag.ReadOnly)

    def cancel(self) -> None:
        """Stop install.py and every process it started; `finished` follows."""
        process = self._process
        if process is None:
            return
        self._cancelled = True
        pid = int(process.processId())
        if pid:
            self._kill(pid)
        process.kill()

    def _read(self) -> None:
        if self._process is None:
            return
        text = self._partial + self._decoder.decode(bytes(self._process.readAllStandardOutput()))
        parts = re.split(r"\r\n|\r|\n", text)
        self._partial = parts.pop()
        for line in parts:
            self._line(line)

    def _line(self, line: str) -> None:
        self._lines.append(line)
        if self._log is not None:
            self._log.write(line + "\n")
            self._log.flush()
        self.output.emit(line)
        step = stage(line)
        if step is not None and step[0] > self.percent:
            self.percent = step[0]
            self.progress.emit(*step)

    def _error(self, error: Any) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._process is not None:   # no finished follows
            self._end(False, "Could not start %s: %s" % (self._process.program(), self._process.errorString()))

    def _done(self, code: int, status: Any) -> None:
        if self._process is None:
            return
        self._read()
        if self._partial:
            self._line(self._partial)
            self._partial = ""
        if self._cancelled:
            self._end(False, "Cancelled: install.py and what it started were stopped. Set up backend\u2026 again "
                             "goes on from there (what it installed is kept).")
        elif status != QProcess.ExitStatus.NormalExit or code != 0:
            self._end(False, outcome(code if status == QProcess.ExitStatus.NormalExit else -1, self._lines,
                                     self.log_path))
        else:
            problem = config.backend_problem()
            self._end(problem is None, "The backend is set up." if problem is None else
                      "install.py finished, but this Krita still finds no backend: %s" % problem)

    def _end(self, ok: bool, message: str) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.deleteLater()
        if self._log is not None:
            self._log.write("\n" + message + "\n")
            self._log.close()
            self._log = None
        self.finished.emit(ok, message)
