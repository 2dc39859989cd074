"""End to end inside a real Krita under Xvfb: the plugin installed by install.py into a throwaway HOME."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, SAMPLES

KRITA = shutil.which("krita")
NEEDED = [KRITA, shutil.which("xvfb-run"), shutil.which("xdotool")]
if not all(NEEDED):
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but Krita, xvfb-run or xdotool is missing: the Krita tests must run in CI")
    pytest.skip("needs krita, xvfb-run and xdotool (apt-get install -y krita python3-pyqt5 xvfb xdotool)",
                allow_module_level=True)

# Small and quick; the plugin reads these from kritarc like an artist's own settings.
SETTINGS = {"size": "160", "steps": "60", "preview_every": "5"}


def run_krita(tmp_path, scenario, timeout=900):
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
        f.write("\n[krita_nst]\n" + "".join("%s=%s\n" % kv for kv in SETTINGS.items()))
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
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1400x1000x24", KRITA, "--nosplash"], env=env,
                          capture_output=True, timeout=timeout, text=True, errors="replace")
    results_file = out / "results.json"
    assert results_file.exists(), "the driver wrote no results; Krita said:\n" + proc.stderr[-4000:]
    results = json.loads(results_file.read_text())
    assert results.get("ok"), results.get("error") or results
    log = data / "krita" / "krita_nst" / "backend.log"
    return results, proc, out, (log.read_text() if log.exists() else "")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as f:   # a zombie is gone for our purposes
        return f.read().split(")")[-1].split()[0] != "Z"


def style_distance(image, style):
    """Distance between colour statistics (mean and std per RGB channel): falls as the style takes over."""
    def stats(a):
        a = np.asarray(a.convert("RGB"), dtype=np.float64) / 255
        return np.concatenate([a.mean((0, 1)), a.std((0, 1))])
    return float(np.abs(stats(image) - stats(style)).sum())


def test_full_scenario_in_real_krita(tmp_path):
    results, proc, out, log = run_krita(tmp_path, "full")
    content, style = Image.open(out / "content.png"), Image.open(out / "style.png")
    for how in ("action", "shortcut"):
        run = results[how]
        assert run["state"] == "done", run
        # One new layer, right above the content layer, with the content's bounds.
        assert run["result_index"] == run["content_index"] + 1, run["layers"]
        assert run["bounds_match"]
        # Live: the layer changed at least twice during the run.
        assert len({p["hash"] for p in run["previews"]}) >= 2, run["previews"]
        result = Image.open(out / ("%s.png" % how))
        assert result.size == content.size
        before, after = style_distance(content, style), style_distance(result, style)
        assert after < 0.7 * before, (how, before, after)
        assert run["final_name"] == "Content \u00d7 Style"
    assert results["after"] == results["before"], "the content or style layer was written"
    cancel = results["cancel"]
    assert cancel["busy_message"] and "Already stylising" in cancel["busy_message"][0]
    assert cancel["layers_added_by_second"] == 0
    assert cancel["state"] == "cancelled" and cancel["final_name"].endswith("[cancelled]")
    assert cancel["cancel_seconds"] < 10
    assert not pid_alive(results["backend_pid"]), "the backend outlived Krita"


def test_backend_killed_mid_run_then_fresh_backend(tmp_path):
    results, _, _, _ = run_krita(tmp_path, "kill")
    killed = results["killed"]
    assert killed["state"] == "failed"
    assert killed["final_name"].endswith("[partial]")
    assert any("stopped unexpectedly" in m for m in killed["messages"]), killed["messages"]
    assert results["after_kill"]["state"] == "done"
    assert results["backend_pid"] != killed["killed_pid"]
    assert not pid_alive(results["backend_pid"])


def test_krita_quitting_mid_run_leaves_no_backend(tmp_path):
    results, _, _, _ = run_krita(tmp_path, "quit")
    assert len(results["quit"]["previews"]) >= 1
    assert not pid_alive(results["backend_pid"]), "the backend outlived Krita"
