"""End to end inside a real Krita under Xvfb: the plugin installed by install.py into a throwaway HOME."""

import os

import numpy as np
import pytest
from PIL import Image

import krita_harness
from krita_nst import __version__

if not krita_harness.available():
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but Krita, xvfb-run or xdotool is missing: the Krita tests must run in CI")
    pytest.skip("needs krita, xvfb-run and xdotool (apt-get install -y krita python3-pyqt5 xvfb xdotool)",
                allow_module_level=True)

# Small and quick; the plugin reads these from kritarc like an artist's own settings.
SETTINGS = {"size": "160", "steps": "60", "preview_every": "5"}


def run_krita(tmp_path, scenario):
    results, proc, out = krita_harness.run(tmp_path, scenario, SETTINGS)
    assert results.get("ok"), results.get("error") or results
    return results, proc, out

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
    results, proc, out = run_krita(tmp_path, "full")
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
    assert "krita-nst %s in Krita %s" % (__version__, results["versions"]["krita"]) in results["plugin_log"]


def test_backend_killed_mid_run_then_fresh_backend(tmp_path):
    results, _, _ = run_krita(tmp_path, "kill")
    killed = results["killed"]
    assert killed["state"] == "failed"
    assert killed["final_name"].endswith("[partial]")
    assert any("stopped unexpectedly" in m for m in killed["messages"]), killed["messages"]
    assert results["after_kill"]["state"] == "done"
    assert results["backend_pid"] != killed["killed_pid"]
    missing = results["missing"]
    assert missing["layers_added"] == 0
    assert any("not installed" in m and "install.py" in m for m in missing["messages"]), missing
    assert not pid_alive(results["backend_pid"])


def test_krita_quitting_mid_run_leaves_no_backend(tmp_path):
    results, _, _ = run_krita(tmp_path, "quit")
    assert len(results["quit"]["previews"]) >= 1
    assert not pid_alive(results["backend_pid"]), "the backend outlived Krita"
