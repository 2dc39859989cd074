"""Setting the backend up from inside Krita (krita_nst/setup.py, setup_run.py, setup_panel.py, setup_docker.py)
against the fake Krita: Pythons found among faked programs (real QProcesses running small scripts), install.py
faked by a script that prints what the real one prints, and the panel's widgets.
Windows and macOS are only faked here: their candidate lists and taskkill's command line."""

import json
import os
import stat
import sys
import textwrap
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import fake_krita  # noqa: E402  (installs itself as `krita`: before the plugin)
from helpers import spin  # noqa: E402
from installer import prereqs  # noqa: E402
from krita_nst import api, config, setup, setup_run  # noqa: E402
from krita_nst.core.version import VERSION  # noqa: E402
from krita_nst.qt import QApplication, QCoreApplication, QObject, pyqtSignal  # noqa: E402

krita = fake_krita.krita   # the fixture
# Widgets need a QApplication: made at collection, before any test's QCoreApplication (conftest's `app`).
GUI = QCoreApplication.instance() or QApplication(sys.argv[:1])
POSIX = pytest.mark.skipif(os.name == "nt", reason="the fake programs are shell scripts")


def program(path, text):
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def probe_line(major, minor, bits=64, ensurepip=1, where="/opt/python"):
    return "echo 'krita-nst-python %d %d %d %d %s'\n" % (major, minor, bits, ensurepip, where)


def found_by(finder, commands):
    got = []
    finder.done.connect(lambda python, why: got.append((python, why)))
    finder.start(commands)
    spin(GUI, lambda: got, 20, "the finder's answer")
    return got[0]


def test_the_python_versions_are_the_installers():
    assert setup.PYTHONS == prereqs.PYTHONS


def test_a_python_install_py_would_refuse_is_refused_with_why():
    good = setup.Python("/usr/bin/python3", (3, 12), 64, True)
    assert good.problem() is None and good.describe() == "Python 3.12, 64-bit"
    assert "torch needs 3.10 to 3.14" in setup.Python("/usr/bin/python3", (3, 9), 64, True).problem()
    assert "64-bit" in setup.Python("C:\\py\\python.exe", (3, 12), 32, True).problem()
    assert "Store" in setup.Python("C:\\Users\\a\\AppData\\Local\\Microsoft\\WindowsApps\\python.exe", (3, 12), 64,
                                   True).problem()
    assert "python3.12-venv" in setup.Python("/usr/bin/python3", (3, 12), 64, False).problem()
    assert setup.parse_probe("noise\nkrita-nst-python 3 13 64 1 /a b/python\n") == \
        setup.Python("/a b/python", (3, 13), 64, True)
    assert setup.parse_probe("Python was not found; run without arguments to install from the Store") is None


def test_candidates_windows_the_py_launcher_first_then_path_and_python_orgs_folders_never_the_store_stub():
    env = {"LOCALAPPDATA": "C:\\Users\\a\\AppData\\Local", "ProgramFiles": "C:\\Program Files", "APPDATA": "R"}
    stub = "C:\\Users\\a\\AppData\\Local\\Microsoft\\WindowsApps\\python.exe"
    paths = {"py": "C:\\Windows\\py.exe", "python.exe": stub}
    there = {os.path.join(env["LOCALAPPDATA"], "Programs", "Python", "Python312", "python.exe")}
    got = setup.candidates("win32", env, "C:\\Users\\a", paths.get, there.__contains__, lambda pattern: [])
    assert got[:5] == [["C:\\Windows\\py.exe", "-" + v] for v in ("3.14", "3.13", "3.12", "3.11", "3.10")]
    assert got[5:] == [[next(iter(there))]]


def test_candidates_macos_and_linux_path_homebrew_and_uv():
    mac = setup.candidates("darwin", {}, "/Users/a", {"python3": "/usr/bin/python3"}.get,
                           {"/opt/homebrew/bin/python3.12"}.__contains__, lambda pattern: [])
    assert mac == [["/usr/bin/python3"], ["/opt/homebrew/bin/python3.12"]]   # Apple's 3.9 is probed and refused
    uv = "/home/a/.local/share/uv/python/cpython-3.12.9-linux-x86_64-gnu/bin/python3"
    linux = setup.candidates("linux", {}, "/home/a", {"python3": "/usr/bin/python3",
                                                      "python3.11": "/usr/bin/python3.11"}.get,
                             {"/usr/bin/python3.11"}.__contains__, lambda pattern: [uv] if "uv" in pattern else [])
    assert linux == [["/usr/bin/python3"], ["/usr/bin/python3.11"], [uv]]


@POSIX
def test_the_finder_tries_each_program_until_one_is_a_python_install_py_takes(app, tmp_path):
    finder = setup.Finder("linux", timeout_ms=1500)
    commands = [[str(tmp_path / "absent")],
                [program(tmp_path / "stub", "echo 'Python was not found'\n")],
                [program(tmp_path / "old", probe_line(3, 9))],
                [program(tmp_path / "hangs", "sleep 30\n")],
                [program(tmp_path / "good", probe_line(3, 12, where="/opt/py312/bin/python3"))],
                [program(tmp_path / "never", probe_line(3, 13))]]
    started = time.monotonic()
    python, why = found_by(finder, commands)
    assert python == setup.Python("/opt/py312/bin/python3", (3, 12), 64, True) and why == ""
    assert time.monotonic() - started < 10 and not finder.running()
    assert len(finder._tried) == 4   # absent, the stub, 3.9, the slow one; never the one after the good one
    assert "does not start" in finder._tried[0] and "did not answer" in finder._tried[1]
    assert "Python 3.9" in finder._tried[2] and "did not answer" in finder._tried[3]


@POSIX
def test_with_no_python_that_fits_the_finder_says_each_one_and_what_to_install(app, tmp_path):
    apples = program(tmp_path / "python3", probe_line(3, 9, where="/usr/bin/python3"))
    python, why = found_by(setup.Finder("darwin"), [[apples], [program(tmp_path / "py32", probe_line(3, 12, bits=32))]])
    assert python is None
    assert "/usr/bin/python3 is Python 3.9" in why and "32-bit" in why and "brew install python@3.12" in why


def fake_checkout(folder, version=VERSION, script=""):
    """A krita-nst folder whose install.py is `script` (it prints what the real one prints)."""
    (folder / "backend").mkdir(parents=True)
    (folder / "krita_nst" / "core").mkdir(parents=True)
    (folder / "krita_nst" / "core" / "version.py").write_text('VERSION = "%s"\n' % version)
    (folder / "install.py").write_text(textwrap.dedent(script))
    return folder


INSTALL_PY = """
    import json, os, sys, time
    args = sys.argv[1:]
    krita_dir, venv = args[args.index("--krita-dir") + 1], args[args.index("--venv") + 1]
    print("[install] torch build for this machine: cpu (no GPU torch can use found)")
    print("[install] $ %s -m venv %s" % (sys.executable, venv))
    print("[install] installing torch==2.13.0, cpu build, from the default package index")
    rc = args[args.index("--kritarc") + 1]
    print("pip's own line, PYTHONPATH=%s, kritarc %s" % (os.environ.get("PYTHONPATH"), rc))
    print("[install] the venv's torch: 2.13.0+cpu, cpu build; GPU: none usable; device: CPU (x86_64)")
    print("[install] $ %s -m pip install -q -r backend/requirements.txt" % venv)
    plugin = os.path.join(krita_dir, "pykrita", "krita_nst")
    os.makedirs(plugin, exist_ok=True)
    with open(os.path.join(plugin, "backend.json"), "w") as f:
        json.dump({"python": sys.executable, "root": os.getcwd()}, f)
    print("[install] plugin installed in %s and enabled in kritarc" % plugin)
    print("[install] done. In Krita: ... Settings \\u25b8 Dockers \\u25b8 Neural Style Transfer.")
"""


@pytest.fixture
def plugin_dir(krita, tmp_path, monkeypatch):
    """The plugin's own backend.json in a fresh folder; Krita's resource folder is tmp_path/resources."""
    monkeypatch.setattr(config, "BACKEND_FILE", str(tmp_path / "plugin" / "backend.json"))
    monkeypatch.setattr(fake_krita.Krita, "app_data", str(tmp_path / "resources"))
    monkeypatch.setenv("PYTHONPATH", "/krita/own/python")
    return tmp_path


def run_installer(installer, python, root, venv):
    seen = {"lines": [], "progress": [], "finished": []}
    installer.output.connect(seen["lines"].append)
    installer.progress.connect(lambda percent, what: seen["progress"].append((percent, what)))
    installer.finished.connect(lambda ok, message: seen["finished"].append((ok, message)))
    installer.start(python, str(root), str(venv), rc="/home/a/.config/kritarc")
    spin(GUI, lambda: seen["finished"], 60, "install.py to end")
    return seen


def test_install_py_runs_for_this_kritas_folder_with_its_lines_and_progress_then_the_backend_is_found(plugin_dir):
    root = fake_checkout(plugin_dir / "krita-nst", script=INSTALL_PY)
    assert config.backend_problem() is not None
    seen = run_installer(setup_run.Installer(), sys.executable, root, plugin_dir / "venv")
    assert seen["finished"] == [(True, "The backend is set up.")]
    assert [p for p, _ in seen["progress"]] == [3, 5, 10, 70, 75, 95, 100]   # in order, never back
    assert "PYTHONPATH=None, kritarc /home/a/.config/kritarc" in "\n".join(seen["lines"])   # Krita's own stripped
    assert seen["lines"][0].startswith("$ %s -u -c " % sys.executable) and "--no-demo --krita-dir %s" % (
        plugin_dir / "resources") in seen["lines"][0]
    assert config.local_backend() == (sys.executable, str(root))
    log = (plugin_dir / "resources" / "krita_nst" / "install.log").read_text()
    assert "[install] done." in log and log.rstrip().endswith("The backend is set up.")


@pytest.mark.parametrize("code, said, expected", [
    (2, "[install] cannot go on: this is Python 3.9 (/usr/bin/python3); torch 2.13 has wheels ...",
     "The setup cannot go on: this is Python 3.9 (/usr/bin/python3)"),
    (1, "[install] stopped: `pip install torch` exited with 1 (its message is above)",
     "The setup stopped: `pip install torch` exited with 1"),
    (3, "Traceback (most recent call last): ...", "install.py ended with exit code 3:\nTraceback"),
    (0, "[install] done.", "install.py finished, but this Krita still finds no backend: The krita-nst backend is not"),
])
def test_install_py_failing_says_what_it_said(plugin_dir, code, said, expected):
    root = fake_checkout(plugin_dir / "krita-nst", script="print(%r)\nraise SystemExit(%d)\n" % (said, code))
    seen = run_installer(setup_run.Installer(), sys.executable, root, plugin_dir / "venv")
    [(ok, message)] = seen["finished"]
    assert not ok and message.startswith(expected), message
    assert "Everything it printed is in" in message or code == 0


def test_a_python_that_does_not_start_is_a_message(plugin_dir):
    root = fake_checkout(plugin_dir / "krita-nst", script=INSTALL_PY)
    installer = setup_run.Installer()
    seen = run_installer(installer, str(plugin_dir / "no-python"), root, plugin_dir / "venv")
    [(ok, message)] = seen["finished"]
    assert not ok and message.startswith("Could not start %s" % (plugin_dir / "no-python"))
    assert not installer.running()


@POSIX
def test_cancel_ends_install_py_and_every_process_it_started(plugin_dir):
    root = fake_checkout(plugin_dir / "krita-nst", script="""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print("[install] installing torch==2.13.0 (pip is %d)" % child.pid, flush=True)
        time.sleep(60)
    """)
    installer = setup_run.Installer()
    seen = {"lines": [], "finished": []}
    installer.output.connect(seen["lines"].append)
    installer.finished.connect(lambda ok, message: seen["finished"].append((ok, message)))
    installer.start(sys.executable, str(root), str(plugin_dir / "venv"))
    spin(GUI, lambda: any("pip is" in line for line in seen["lines"]), 30, "the child started")
    pip = int([line for line in seen["lines"] if "pip is" in line][0].split()[-1].rstrip(")"))
    installer.cancel()
    spin(GUI, lambda: seen["finished"], 10, "cancelled")
    assert seen["finished"][0][0] is False and seen["finished"][0][1].startswith("Cancelled")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pip):
        time.sleep(0.05)
    assert not _alive(pip), "pip outlived Cancel"
    assert not installer.running()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    with open("/proc/%d/stat" % pid) as f:   # a zombie (dead, not yet reaped by its dead parent) counts as gone
        return f.read().split(") ")[-1][0] != "Z"


def test_install_py_is_its_own_process_group_on_posix_and_taskkill_ends_the_tree_on_windows():
    posix = setup_run.install_command("/usr/bin/python3", "/k", "/res", "/rc", "/v", "linux")
    assert posix[:5] == ["/usr/bin/python3", "-u", "-c", setup_run.SESSION, os.path.join("/k", "install.py")]
    assert posix[-2:] == ["--venv", "/v"]
    windows = setup_run.install_command("py.exe", "C:\\k", "R", "rc", "", "win32")
    assert windows[:3] == ["py.exe", "-u", os.path.join("C:\\k", "install.py")] and "--venv" not in windows
    calls = []
    setup_run.kill_tree(1234, "win32", run=lambda argv, **kw: calls.append((argv, kw["creationflags"])))
    assert calls == [(["taskkill", "/PID", "1234", "/T", "/F"], 0x08000000)]
    groups = []
    setup_run.kill_tree(1234, "linux", killpg=lambda pid, sig: groups.append((pid, sig)))
    assert groups == [(1234, 9)]


def test_a_folder_is_checked_for_krita_nst_of_this_release_then_located(plugin_dir):
    with pytest.raises(setup.SetupError, match="is not a krita-nst folder"):
        setup.check_folder(str(plugin_dir))
    other = fake_checkout(plugin_dir / "old", version="0.0.1")
    with pytest.raises(setup.SetupError, match="holds krita-nst 0.0.1, but this plugin is %s" % VERSION):
        setup.locate(str(other))
    root = fake_checkout(plugin_dir / "krita-nst")
    with pytest.raises(setup.SetupError, match="has no backend venv yet"):
        setup.locate(str(root))
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").write_text("")
    assert setup.locate(str(root) + "  ") == (str(root / ".venv" / "bin" / "python"), str(root))
    another_kritas = plugin_dir / "elsewhere" / "pykrita" / "krita_nst"   # a plugin folder install.py connected
    another_kritas.mkdir(parents=True)
    (another_kritas / "backend.json").write_text(json.dumps({"python": sys.executable, "root": str(root)}))
    assert setup.locate(str(another_kritas)) == (sys.executable, str(root))


def test_the_folder_the_plugin_came_from_is_known_from_a_backend_json_or_the_last_pick(plugin_dir, krita):
    assert setup.known_folder() in ("", os.path.dirname(config.PLUGIN_DIR))   # a checkout: the one it is loaded from
    root = fake_checkout(plugin_dir / "picked")
    krita.writeSetting(config.GROUP, "checkout", str(root))
    assert setup.known_folder() == str(root)
    gone = fake_checkout(plugin_dir / "recorded")
    (plugin_dir / "plugin").mkdir()
    (plugin_dir / "plugin" / "backend.json").write_text(json.dumps({"python": "/venv/gone", "root": str(gone)}))
    assert setup.known_folder() == str(gone)   # its venv was deleted: set it up there again


class FakeController(QObject):
    backend_ready = pyqtSignal(str)

    def __init__(self):
        super().__init__()
        self.started = 0

    def backend(self):
        self.started += 1
        config.local_backend()   # what the real one does first: raises BackendMissing when there is none


@pytest.fixture
def panel(plugin_dir, monkeypatch):
    from krita_nst.setup_panel import SetupPanel
    controller = FakeController()
    monkeypatch.setattr(api, "_controller", controller)
    widget = SetupPanel()
    widget.controller = controller
    widget.told = []
    widget.connected.connect(widget.told.append)
    yield widget
    widget.installer.cancel()
    widget.deleteLater()


def test_the_panel_offers_set_up_until_install_py_ran_then_connects(panel, plugin_dir, monkeypatch):
    assert not panel.isHidden() and "not installed" in panel.note.text() and panel.form.isHidden()
    root = fake_checkout(plugin_dir / "krita-nst", script=INSTALL_PY)
    fake = program(plugin_dir / "python3", probe_line(3, 12, where=sys.executable)) if os.name != "nt" else None
    monkeypatch.setattr(setup, "candidates", lambda *a, **k: [[fake or sys.executable]])
    monkeypatch.setattr(setup, "known_folder", lambda: "")   # imported from the zip: where it came from is unknown
    panel.setup_button.click()
    assert not panel.form.isHidden()
    spin(GUI, lambda: panel.python_edit.text(), 20, "a Python found")
    assert panel.python_edit.text() == sys.executable and "Python 3.12, 64-bit found" in panel.stage.text()
    panel.install_button.click()   # no folder yet: said, nothing runs
    assert "Pick the krita-nst folder first" in panel.stage.text() and not panel.installer.running()
    panel.folder_edit.setText(str(plugin_dir))
    panel.install_button.click()
    assert "is not a krita-nst folder" in panel.stage.text() and not panel.installer.running()
    panel.folder_edit.setText(str(root))
    panel.venv_edit.setText(str(plugin_dir / "venv"))
    panel.install_button.click()
    assert panel.installer.running() and not panel.install_button.isEnabled() and panel.cancel_button.isEnabled()
    spin(GUI, lambda: not panel.installer.running(), 60, "install.py to end")
    assert panel.bar.value() == 100 and "[install] done." in panel.output.toPlainText()
    assert panel.controller.started == 1 and panel.isHidden()
    assert panel.told == ["The backend is set up. Starting it\u2026"]
    assert fake_krita.Krita.instance().readSetting(config.GROUP, "checkout", "") == str(root)


def test_locate_connects_a_folder_set_up_already_and_explains_one_that_is_not(panel, plugin_dir):
    root = fake_checkout(plugin_dir / "krita-nst")
    panel.locate_folder(str(root))
    assert "has no backend venv yet" in panel.note.text() and not panel.isHidden() and panel.controller.started == 0
    (root / ".venv" / "bin").mkdir(parents=True)
    python = root / ".venv" / "bin" / "python"
    python.write_text("")
    panel.locate_folder(str(root))
    assert json.loads((plugin_dir / "plugin" / "backend.json").read_text()) == {"python": str(python),
                                                                                 "root": str(root)}
    assert panel.controller.started == 1 and panel.isHidden()
    assert panel.told == ["Connected the backend in %s. Starting it\u2026" % root]
