"""Setting the backend up from inside Krita: a Python that can run install.py (found or picked), install.py run
in a QProcess (its lines, its progress, cancellable with every process it started), and connecting a krita-nst
folder that is already set up (Locate backend).  The widgets are in setup_panel.py."""

import ast
import glob
import os
import shutil
import sys
from typing import Any, Callable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from . import config
from .core.version import VERSION
from .qt import QObject, QProcess, QTimer, pyqtSignal

PYTHONS = ((3, 10), (3, 14))   # installer/prereqs.py's: torch 2.13's wheels (tests/test_setup.py keeps them equal)
VERSIONS = ["3.%d" % minor for minor in range(PYTHONS[1][1], PYTHONS[0][1] - 1, -1)]   # newest first
PROBE = ("import importlib.util as u, struct, sys; print('krita-nst-python', sys.version_info[0], "
         "sys.version_info[1], struct.calcsize('P') * 8, int(u.find_spec('ensurepip') is not None), sys.executable)")


class SetupError(Exception):
    """Something the artist can fix (a folder that is not krita-nst, another release): the panel shows it."""


class Python(NamedTuple):
    path: str
    version: Tuple[int, int]
    bits: int
    ensurepip: bool

    def problem(self) -> Optional[str]:
        """Why install.py would refuse it (the rules of installer/prereqs.py), None when it will do."""
        low, high = PYTHONS
        shown = "%d.%d" % self.version
        if not low <= self.version <= high:
            return "%s is Python %s; torch needs 3.%d to 3.%d" % (self.path, shown, low[1], high[1])
        if self.bits != 64:
            return "%s is a %d-bit Python; torch needs a 64-bit one" % (self.path, self.bits)
        if "\\windowsapps\\" in self.path.lower():
            return "%s is the Microsoft Store's Python, whose files Krita cannot see" % self.path
        if not self.ensurepip:
            return "%s cannot make a venv (no ensurepip: on Debian/Ubuntu `sudo apt install python%s-venv`)" % (
                self.path, shown)
        return None

    def describe(self) -> str:
        return "Python %d.%d, %d-bit" % (self.version[0], self.version[1], self.bits)


def parse_probe(output: str) -> Optional[Python]:
    for line in output.splitlines():
        parts = line.strip().split(" ", 5)
        if len(parts) == 6 and parts[0] == "krita-nst-python" and all(p.isdigit() for p in parts[1:5]):
            return Python(parts[5], (int(parts[1]), int(parts[2])), int(parts[3]), parts[4] == "1")
    return None


def candidates(system: str, env: Mapping[str, str], home: str,
               which: Callable[[str], Optional[str]] = shutil.which,
               exists: Callable[[str], bool] = os.path.isfile,
               matches: Callable[[str], List[str]] = glob.glob) -> List[List[str]]:
    """Command lines that may start a suitable Python, most likely first: the py launcher on Windows, PATH, then
    where python.org, Homebrew, the distribution and uv put them.  The Store's stubs are left out."""
    found: List[List[str]] = []
    if system == "win32":
        launcher = which("py")
        if launcher:
            found += [[launcher, "-" + v] for v in VERSIONS]
        names = ["python.exe", "python3.exe"]
        local = env.get("LOCALAPPDATA", os.path.join(home, "AppData", "Local"))
        places = [os.path.join(local, "Programs", "Python", "Python3%s" % v[2:], "python.exe") for v in VERSIONS]
        places += [os.path.join(env.get(root, default), "Python3%s" % v[2:], "python.exe") for v in VERSIONS
                   for root, default in (("ProgramFiles", "C:\\Program Files"), ("SystemDrive", "C:"))]
        managed = sorted(matches(os.path.join(env.get("APPDATA", ""), "uv", "python", "cpython-3.*", "python.exe")),
                         reverse=True)
    else:
        names = ["python3"] + ["python" + v for v in VERSIONS]
        bins = ["/usr/bin", "/usr/local/bin", os.path.join(home, ".local", "bin")]
        if system == "darwin":
            bins = ["/opt/homebrew/bin"] + bins + ["/Library/Frameworks/Python.framework/Versions/%s/bin" % v
                                                   for v in VERSIONS]
        places = [os.path.join(b, "python" + v) for b in bins for v in VERSIONS]
        data = env.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
        managed = sorted(matches(os.path.join(data, "uv", "python", "cpython-3.*", "bin", "python3")), reverse=True)
    found += [[path] for path in (which(name) for name in names) if path]
    found += [[path] for path in places if exists(path)] + [[path] for path in managed]   # uv's, newest first
    unique: List[List[str]] = []
    for argv in found:
        if argv not in unique and "\\windowsapps\\" not in argv[0].lower():
            unique.append(argv)
    return unique


def advice(system: str) -> str:
    """What to install when no Python fits (the same advice as install.py's)."""
    if system == "win32":
        return ("Install Python 3.12 (64-bit) from https://www.python.org/downloads/windows/ (or `winget install "
                "Python.Python.3.12`), then press Set up backend\u2026 again, or pick its python.exe.")
    if system == "darwin":
        return ("Install Python 3.12 from https://www.python.org/downloads/macos/ (or `brew install python@3.12`), "
                "then press Set up backend\u2026 again (Apple's /usr/bin/python3 is 3.9, too old).")
    return ("Install Python 3 with your package manager (Debian/Ubuntu: `sudo apt install python3 python3-venv`; "
            "Fedora: `sudo dnf install python3.12`), then press Set up backend\u2026 again, or pick a python3.")


class Finder(QObject):
    """Tries command lines one at a time (never blocking Krita) until one is a Python install.py takes."""

    done = pyqtSignal(object, str)   # the Python, or None and why none fits (each one tried, and what to install)

    def __init__(self, system: str = sys.platform, timeout_ms: int = 20000, parent: Optional[Any] = None) -> None:
        super().__init__(parent)
        self.system, self.timeout_ms = system, timeout_ms
        self._queue: List[List[str]] = []
        self._tried: List[str] = []
        self._process: Optional[Any] = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._too_slow)

    def running(self) -> bool:
        return self._process is not None

    def start(self, commands: Optional[Sequence[Sequence[str]]] = None) -> None:
        """Look for one (default: candidates() on this machine), or check the given ones (a picked file)."""
        if commands is None:
            commands = candidates(self.system, os.environ, os.path.expanduser("~"))
        self.stop()
        self._queue, self._tried = [list(c) for c in commands], []
        self._next()

    def stop(self) -> None:
        self._queue = []
        process, self._process = self._process, None
        self._timer.stop()
        if process is not None:
            process.finished.disconnect()
            process.kill()
            process.waitForFinished(1000)
            process.deleteLater()

    def _next(self) -> None:
        if not self._queue:
            tried = "; ".join(self._tried) or "no Python found on PATH or in the usual places"
            self.done.emit(None, "No Python 3.%d-3.%d (64-bit) found (%s). %s"
                           % (PYTHONS[0][1], PYTHONS[1][1], tried, advice(self.system)))
            return
        argv = self._queue.pop(0)
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        process.finished.connect(lambda *_: self._probed(process, argv))
        process.errorOccurred.connect(lambda error: self._failed(process, argv, error))
        self._process = process
        self._timer.start(self.timeout_ms)
        process.start(argv[0], argv[1:] + ["-c", PROBE])

    def _failed(self, process: Any, argv: List[str], error: Any) -> None:
        if self._current(process) and error == QProcess.ProcessError.FailedToStart:   # no finished follows
            self._timer.stop()
            self._process = None
            process.deleteLater()
            self._tried.append("%s does not start" % " ".join(argv))
            self._next()

    def _too_slow(self) -> None:
        if self._process is not None:
            self._process.kill()   # finished follows: it counts as not answering

    def _current(self, process: Any) -> bool:
        return process is self._process   # (a probe stopped early may still report)

    def _probed(self, process: Any, argv: List[str]) -> None:
        if not self._current(process):
            return
        self._timer.stop()
        self._process = None
        python = parse_probe(bytes(process.readAllStandardOutput()).decode("utf-8", "replace"))
        process.deleteLater()
        if python is None:
            self._tried.append("%s did not answer as a Python" % " ".join(argv))
        elif python.problem():
            self._tried.append(str(python.problem()))
        else:
            self._queue = []
            self.done.emit(python, "")
            return
        self._next()


def folder_version(root: str) -> Optional[str]:
    """The release in a krita-nst folder (its krita_nst/core/version.py, read, not run); None: none there."""
    try:
        with open(os.path.join(root, "krita_nst", "core", "version.py"), encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["VERSION"] \
                and isinstance(node.value, ast.Constant):
            return str(node.value.value)
    return None


def check_folder(root: str) -> str:
    """root as a krita-nst folder of this plugin's release (SetupError saying what it is otherwise)."""
    if not root.strip():   # (abspath would make it the current folder)
        raise SetupError("Pick the krita-nst folder first: the unpacked krita-nst %s release (or its git checkout), "
                         "the folder holding install.py." % VERSION)
    root = os.path.abspath(os.path.expanduser(root.strip()))
    if not (os.path.isfile(os.path.join(root, "install.py")) and os.path.isdir(os.path.join(root, "backend"))):
        raise SetupError("%s is not a krita-nst folder (it has no install.py and backend/): pick the unpacked "
                         "krita-nst %s release or its git checkout." % (root, VERSION))
    theirs = folder_version(root)
    if theirs != VERSION:
        raise SetupError("%s holds krita-nst %s, but this plugin is %s: pick the krita-nst %s folder (or install "
                         "that release's plugin with its install.py)." % (root, theirs or "(unknown)", VERSION,
                                                                          VERSION))
    return root


def known_folder() -> str:
    """The krita-nst folder this plugin came from, when it can be known: a backend.json's root (even one whose
    venv is gone), the folder picked last time, or the checkout the plugin is loaded from; else ""."""
    roots = []
    for path in config.backend_files():
        try:
            with open(path, encoding="utf-8") as f:
                roots.append(str(config.json.load(f)["root"]))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    roots += [config.raw("checkout"), os.path.dirname(os.path.realpath(config.PLUGIN_DIR))]
    for root in roots:
        if root and os.path.isfile(os.path.join(root, "install.py")):
            return root
    return ""


def locate(folder: str, system: str = sys.platform, env: Mapping[str, str] = os.environ) -> Tuple[str, str]:
    """(python, root) of a krita-nst folder set up already: its .venv, or on Windows install.py's default venv,
    or a plugin folder's backend.json (another Krita's)."""
    check_folder(folder) if not folder.strip() else None   # nothing picked: say so
    folder = os.path.abspath(os.path.expanduser(folder.strip()))
    recorded = os.path.join(folder, "backend.json")
    if os.path.isfile(recorded) and not os.path.isfile(os.path.join(folder, "install.py")):
        try:
            with open(recorded, encoding="utf-8") as f:
                where = config.json.load(f)
            folder, pythons = str(where["root"]), [str(where["python"])]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SetupError("%s cannot be read (%s)" % (recorded, exc)) from None
    else:
        pythons = [os.path.join(folder, ".venv", "bin", "python"), os.path.join(folder, ".venv", "Scripts",
                                                                                  "python.exe")]
        if system == "win32" and env.get("LOCALAPPDATA"):
            pythons.append(os.path.join(env["LOCALAPPDATA"], "krita-nst", "venv", "Scripts", "python.exe"))
    root = check_folder(folder)
    for python in pythons:
        if os.path.isfile(python):
            return python, root
    raise SetupError("%s has no backend venv yet (looked for %s): press Set up backend\u2026 to install it there."
                     % (root, " and ".join(pythons)))
