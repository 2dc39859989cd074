"""Where things are, and the user's settings (kept in kritarc under the [krita_nst] group)."""

import json
import os
from typing import Any, Callable, Dict, List, Optional, Tuple

from krita import Krita

from .core import backends
from .core.settings import PLUGIN_SETTINGS, SETTINGS
from .core.version import VERSION

KNOWN = {s.name: s for s in SETTINGS + PLUGIN_SETTINGS}

GROUP = "krita_nst"
PLUGIN_DIR = os.path.dirname(os.path.abspath(__file__))
BACKEND_FILE = os.path.join(PLUGIN_DIR, "backend.json")   # written by install.py


class BackendMissing(Exception):
    """The backend is not installed where the plugin expects it (or the `backend` setting is unusable)."""


class Unreadable:
    """kritarc values that cannot be used: each told once (per name and value) to the listeners, before the
    default stands in for it; told again if it is fixed and then broken again.  Told before any listener
    listens, a message waits for the first."""

    def __init__(self) -> None:
        self.told: Dict[str, str] = {}          # name -> the unreadable text already told about
        self.waiting: List[str] = []
        self.listeners: List[Callable[[str], None]] = []

    def listen(self, listener: Callable[[str], None]) -> None:
        self.listeners.append(listener)
        waiting, self.waiting = self.waiting, []
        for message in waiting:
            listener(message)

    def found(self, name: str, text: str, why: str, default: Any) -> None:
        if self.told.get(name) == text:
            return
        self.told[name] = text
        message = ("The krita_nst setting %s=%s in kritarc cannot be used (%s): using its default, %s, until it "
                   "is set again (in the docker, or in kritarc)." % (name, text, why, default))
        for listener in self.listeners or [self.waiting.append]:
            listener(message)

    def fine(self, name: str) -> None:
        self.told.pop(name, None)

    def problems(self) -> Dict[str, str]:
        """The unreadable values now (name -> text), e.g. for the docker to mark."""
        return dict(self.told)


UNREADABLE = Unreadable()


def on_unreadable(listener: Callable[[str], None]) -> None:
    """listener(message) for each kritarc value that cannot be used, once, before its default is used."""
    UNREADABLE.listen(listener)


def read(name: str) -> Any:
    setting = KNOWN[name]
    text = Krita.instance().readSetting(GROUP, name, str(setting.default))
    try:
        value = setting.parse(text)
    except ValueError as exc:
        UNREADABLE.found(name, text, str(exc), setting.default)
        return setting.default
    UNREADABLE.fine(name)
    return value


def write(name: str, value: Any) -> None:
    Krita.instance().writeSetting(GROUP, name, str(KNOWN[name].parse(value)))


def read_json(name: str) -> Any:
    """A value the plugin keeps for itself in kritarc (not a setting), None when absent or unreadable."""
    try:
        return json.loads(Krita.instance().readSetting(GROUP, name, "null"))
    except ValueError:
        return None


def write_json(name: str, value: Any) -> None:
    Krita.instance().writeSetting(GROUP, name, json.dumps(value))


def job_settings() -> Dict[str, Any]:
    return {s.name: read(s.name) for s in SETTINGS}


def backend_setting() -> str:
    return Krita.instance().readSetting(GROUP, "backend", backends.LOCAL)


def write_backend_setting(spec: str) -> None:
    """Set `backend` (checked first: BadSpec with how to write it); the next run uses it."""
    spec = spec.strip() or backends.LOCAL
    backends.parse(spec, Krita.instance().readSetting(GROUP, "ssh_options", ""))
    Krita.instance().writeSetting(GROUP, "backend", spec)


def backend_location() -> backends.Backend:
    """The backend to start: kritarc's `backend` setting (plus `ssh_options`), local by default."""
    spec = backend_setting()
    options = Krita.instance().readSetting(GROUP, "ssh_options", "")
    try:
        remote = backends.parse(spec, options)
    except backends.BadSpec as exc:
        raise BackendMissing(str(exc)) from None
    if remote is not None:
        return backends.ssh(remote)
    python, root = local_backend()
    return backends.local(python, root, os.getpid())


def resource_folder() -> Optional[str]:
    """Krita's resource folder, the one holding pykrita/ (Settings > Manage Resources > Open Resource Folder),
    as Krita itself says it (Krita.getAppDataLocation(), in libkis since 4.x); without that, kritarc's
    ResourceDirectory or the folder this plugin was loaded from (RESOURCES/pykrita/krita_nst). None: unknown."""
    ask = getattr(Krita.instance(), "getAppDataLocation", None)
    folder = ask() if ask is not None else ""
    if not folder:
        folder = Krita.instance().readSetting("", "ResourceDirectory", "")
    if not folder and os.path.basename(os.path.dirname(PLUGIN_DIR)) == "pykrita":
        folder = os.path.dirname(os.path.dirname(PLUGIN_DIR))
    return folder or None


def backend_files() -> List[str]:
    """Where backend.json may be, in order: beside this plugin (install.py writes it there), beside the plugin
    in Krita's real resource folder, and in the plugin's data folder there (Locate backend, when the plugin's
    own folder cannot be written)."""
    files = [BACKEND_FILE]
    folder = resource_folder()
    if folder:
        files += [os.path.join(folder, "pykrita", GROUP, "backend.json"), os.path.join(folder, GROUP, "backend.json")]
    unique: List[str] = []
    for path in files:
        if all(os.path.normcase(os.path.realpath(path)) != os.path.normcase(os.path.realpath(u)) for u in unique):
            unique.append(path)
    return unique


def local_backend() -> Tuple[str, str]:
    """(python executable, folder to run `python -m backend` in), as install.py (or Locate backend) recorded
    them: the first of backend_files() that names both."""
    hint = ("Set it up from the Neural Style Transfer docker (Set up backend\u2026, or Locate backend\u2026 for a "
            "krita-nst folder already set up), or install it from krita-nst %s, the release this plugin comes "
            "from: in its folder run\n    python3 install.py\nthen stylise again (no restart needed)." % VERSION)
    problems = []
    for path in backend_files():
        try:
            with open(path, encoding="utf-8") as f:
                where = json.load(f)
            python, root = str(where["python"]), str(where["root"])
        except FileNotFoundError:
            continue
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append("%s cannot be read: %s" % (path, exc))
            continue
        if os.path.isfile(python) and os.path.isdir(os.path.join(root, "backend")):
            return python, root
        problems.append("expected Python at %s and the backend in %s" % (python, root))
    if problems:
        raise BackendMissing("The krita-nst backend is missing (%s).\n%s" % (problems[0], hint))
    raise BackendMissing("The krita-nst backend is not installed.\n" + hint)


def backend_problem() -> Optional[str]:
    """Why no backend can start (None when one can, or when kritarc's `backend` is a remote one)."""
    try:
        backend_location()
    except BackendMissing as exc:
        return str(exc)
    return None


def write_backend_file(python: str, root: str) -> str:
    """Record the backend (Locate backend): beside the plugin where install.py writes it, else in the plugin's
    data folder; returns where."""
    where = {"python": os.path.abspath(python), "root": os.path.abspath(root)}
    folder = resource_folder()
    places = [BACKEND_FILE] + ([os.path.join(folder, GROUP, "backend.json")] if folder else [])
    problems = []
    for path in places:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path + ".part", "w", encoding="utf-8") as f:
                json.dump(where, f, indent=1)
            os.replace(path + ".part", path)
            return path
        except OSError as exc:
            problems.append("%s: %s" % (path, exc))
    raise OSError("cannot write backend.json (%s)" % "; ".join(problems))


def log_folder() -> str:
    folder = resource_folder()
    folder = os.path.join(folder, GROUP) if folder else PLUGIN_DIR
    os.makedirs(folder, exist_ok=True)
    return folder


def log_path() -> str:
    """The backend's stderr."""
    return os.path.join(log_folder(), "backend.log")


def plugin_log_path() -> str:
    """The plugin's own log: its warnings and tracebacks."""
    return os.path.join(log_folder(), "plugin.log")


def raw(name: str) -> str:
    """A kritarc entry of the plugin as written (the watcher compares these; empty when absent)."""
    return Krita.instance().readSetting(GROUP, name, "")


WATCHED = tuple(KNOWN) + ("backend", "ssh_options")   # every kritarc entry the plugin's panels show or use
