#!/usr/bin/env python3
"""The test command: `python3 tests/run.py [pytest args]`.

Installs what the tests need, runs the lint and type checks (ruff, mypy), then the tests, with the
backend's venv:
- Krita, Xvfb and xdotool for the end-to-end tests, mmdebstrap and zstd for the root file systems
  holding Krita 5.2, 5.3 and 6.0 (apt-get when missing and run as root; otherwise it says what to
  install, and the Krita tests skip, except under CI=true where they must run);
- the backend (install.py --no-demo, with the plugin going only into throwaway test folders);
- pytest, ruff, mypy and PyQt5 (tests/requirements.txt).
"""

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The host's Krita and what drives it; mmdebstrap and zstd build and cache the other Kritas' roots.
APT = ["krita", "python3-pyqt5", "xvfb", "xdotool", "mmdebstrap", "zstd", "openssh-server"]
TOOLS = ("krita", "xvfb-run", "xdotool", "mmdebstrap", "zstd", "/usr/sbin/sshd")   # sshd: for the ssh backend tests


def ensure_krita():
    missing = [tool for tool in TOOLS if not (os.path.exists(tool) if os.path.isabs(tool) else shutil.which(tool))]
    if not missing:
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("[tests] installing %s with apt-get" % " ".join(APT), flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq"] + APT, check=True, env=env)
        return
    print("[tests] missing %s: the Krita end-to-end tests need them. Install with:\n"
          "    sudo apt-get install -y %s" % (", ".join(missing), " ".join(APT)), flush=True)
    if os.environ.get("CI") == "true":
        sys.exit("[tests] CI=true: the Krita tests must run, so this is an error")


def main():
    ensure_krita()
    tmp = os.path.join(ROOT, ".venv", "test-krita")  # install.py's plugin copy goes here, not into your Krita
    subprocess.run([sys.executable, os.path.join(ROOT, "install.py"), "--no-demo",
                    "--krita-dir", os.path.join(tmp, "krita"), "--kritarc", os.path.join(tmp, "kritarc")],
                   check=True)
    python = os.path.join(ROOT, ".venv", "Scripts" if os.name == "nt" else "bin", "python")
    subprocess.run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r",
                    os.path.join(ROOT, "tests", "requirements.txt")], check=True)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # Settings in pyproject.toml; a finding fails the run.  mypy also as on Windows and macOS, which CI never
    # runs: their sys.platform branches (ctypes.WinDLL, winjob.py, ...) are type-checked only this way.  A cache
    # each: one shared would be thrown away at every change of platform.
    checks = [["ruff", "check", "."]] + [["mypy", "--platform", platform, "--cache-dir", ".mypy_cache/" + platform]
                                         for platform in ("linux", "win32", "darwin")]
    for check in checks:
        print("[tests] $ " + " ".join(check), flush=True)
        if subprocess.run([python, "-m"] + check, cwd=ROOT, env=env).returncode != 0:
            return 1
    return subprocess.run([python, "-m", "pytest", "-v", "-rs", "--durations=30", os.path.join(ROOT, "tests")]
                          + sys.argv[1:],
                          cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
