"""Run one driver scenario (tests/krita_driver) in a real Krita under Xvfb, in a throwaway HOME."""

import json
import os
import shutil
import subprocess
import sys

from helpers import REPO, SAMPLES


def available():
    return all(shutil.which(tool) for tool in ("krita", "xvfb-run", "xdotool"))


def run(tmp_path, scenario, settings, timeout=900):
    """(results dict, CompletedProcess, output folder).  settings go into kritarc's [krita_nst]."""
    home = tmp_path / "home"
    data, config, out = home / "data", home / "config", tmp_path / "out"
    for d in (data, config, out):
        d.mkdir(parents=True, exist_ok=True)
    kritarc = config / "kritarc"
    subprocess.run([sys.executable, os.path.join(REPO, "install.py"), "--no-demo",
                    "--venv", os.path.join(REPO, ".venv"), "--krita-dir", str(data / "krita"),
                    "--kritarc", str(kritarc)], check=True, capture_output=True)
    shutil.copytree(os.path.join(REPO, "tests", "krita_driver"), data / "krita" / "pykrita", dirs_exist_ok=True)
    with open(kritarc, "a") as f:
        f.write("enable_nst_e2e=true\n")   # install.py left [python] as the last group
        f.write("\n[krita_nst]\n" + "".join("%s=%s\n" % kv for kv in settings.items()))
        f.write("\n[General]\nShowSplash=false\n")
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(data), XDG_CONFIG_HOME=str(config),
               XDG_CACHE_HOME=str(home / "cache"), KRITA_NST_E2E_OUT=str(out), KRITA_NST_E2E_SAMPLES=SAMPLES,
               KRITA_NST_E2E_SCENARIO=scenario, PYTHONPATH="/should/be/stripped/by/the/plugin")
    for name in ("PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(name, None)
    # Krita's embedded Python finds its home through PATH: a pyenv or venv python first on PATH
    # (as under `python3 tests/run.py`) makes it load the wrong standard library and no plugins.
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if p.startswith(("/usr/", "/bin", "/sbin")) and "python" not in p.lower()
                                  and "pyenv" not in p)
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1400x1000x24", shutil.which("krita"), "--nosplash"],
                          env=env, capture_output=True, timeout=timeout, text=True, errors="replace")
    results_file = out / "results.json"
    if not results_file.exists():
        raise AssertionError("the driver wrote no results; Krita said:\n" + proc.stderr[-4000:])
    return json.loads(results_file.read_text()), proc, out
