"""The Python running install.py, and where the venv goes: checked before anything is downloaded."""

import importlib.util
import os
import sys
from typing import Mapping, Optional, Sequence

from .console import Fail

# torch 2.13.0's wheels on PyPI: cp310 ... cp314 (and cp314t), 64-bit only.
PYTHONS = ((3, 10), (3, 14))
# The longest path inside a venv with torch 2.13 (Lib\site-packages\ + a licence deep in torch's
# dist-info/licenses/third_party): 189 characters measured on the CPU build, rounded up.
TORCH_DEPTH = 200
WINDOWS_MAX_PATH = 259


def advice(system: str) -> str:
    """What to install on this OS to get a Python torch 2.13 runs on, and how to run the installer with it."""
    if system == "win32":
        return ("Install Python 3.12 (64-bit) from https://www.python.org/downloads/windows/ "
                "(or `winget install Python.Python.3.12`), then run `py -3.12 install.py`.")
    if system == "darwin":
        return ("Install Python 3.12 from https://www.python.org/downloads/macos/ (or `brew install python@3.12`), "
                "then run `python3.12 install.py` (Apple's /usr/bin/python3 is 3.9, too old).")
    return ("Install Python 3.12 with your package manager (Debian/Ubuntu: `sudo apt install python3 python3-venv`; "
            "Fedora: `sudo dnf install python3.12`; Arch: `sudo pacman -S python`), then run "
            "`python3 install.py` with it.")


def python_problem(version: Sequence[int], bits: int, executable: str, system: str,
                   has_ensurepip: bool = True) -> Optional[str]:
    """Why this Python cannot make the backend's venv (None when it can)."""
    low, high = PYTHONS
    here = "%d.%d" % (version[0], version[1])
    if not low <= tuple(version[:2]) <= high:
        return ("this is Python %s (%s); torch 2.13 has wheels for Python %d.%d to %d.%d only. %s"
                % (here, executable, low[0], low[1], high[0], high[1], advice(system)))
    if bits != 64:
        return "this Python (%s) is %d-bit; torch needs a 64-bit Python. %s" % (executable, bits, advice(system))
    if system == "win32" and "\\windowsapps\\" in executable.lower():
        # The Store's Python writes %APPDATA% into its own sandbox: Krita would never see the plugin.
        return ("this is the Microsoft Store's Python (%s): it keeps what it writes to AppData in its own "
                "sandbox, where Krita cannot find the plugin. %s" % (executable, advice(system)))
    if not has_ensurepip:
        return ("this Python (%s) cannot make a venv: its ensurepip module is missing. On Debian/Ubuntu: "
                "`sudo apt install python%s-venv`, then run install.py again." % (executable, here))
    return None


def check_python() -> None:
    bits = 64 if sys.maxsize > 2 ** 32 else 32
    problem = python_problem(tuple(sys.version_info[:2]), bits, sys.executable, sys.platform,
                             importlib.util.find_spec("ensurepip") is not None)
    if problem:
        raise Fail(problem)


def default_venv(root: str, system: str, env: Mapping[str, str]) -> str:
    """Windows: a short per-user path (torch's deepest files in a venv under Downloads\\... pass the 260
    characters Windows allows when long paths are off: WinError 206). Elsewhere: .venv in the checkout."""
    if system == "win32" and env.get("LOCALAPPDATA"):
        return os.path.join(env["LOCALAPPDATA"], "krita-nst", "venv")
    return os.path.join(root, ".venv")


def long_paths_enabled() -> bool:
    if sys.platform != "win32":
        return False
    try:
        import winreg
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SYSTEM\CurrentControlSet\Control\FileSystem") as key:
            return bool(winreg.QueryValueEx(key, "LongPathsEnabled")[0])
    except (ImportError, OSError):
        return False


def check_venv_path(venv: str, system: str, long_paths: bool) -> None:
    if system != "win32" or long_paths or len(venv) + TORCH_DEPTH <= WINDOWS_MAX_PATH:
        return
    raise Fail("the venv path %s is %d characters: torch's files inside it would pass Windows' 260-character "
               "limit (WinError 206). Give a shorter one (--venv C:\\knst), or turn long paths on in an "
               "administrator PowerShell: New-ItemProperty -Path HKLM:\\SYSTEM\\CurrentControlSet\\Control\\FileSystem "
               "-Name LongPathsEnabled -Value 1 -PropertyType DWORD -Force" % (venv, len(venv)))
