"""`python -m backend stylize` as a person runs it: a real process on a small image."""

import os
import subprocess

from PIL import Image

from helpers import REPO, sample, venv_python


def stylize(*args):
    return subprocess.run([venv_python(), "-m", "backend", "stylize", *args], cwd=REPO, capture_output=True,
                          env=dict(os.environ, KRITA_NST_DEVICE="cpu"), text=True, timeout=300)


def test_a_file_is_stylised_with_previews(tmp_path):
    content = tmp_path / "cat.png"
    with Image.open(sample("chelsea.png")) as img:
        img.resize((120, 80)).save(content)
    out, previews = tmp_path / "out.png", tmp_path / "previews"
    done = stylize(str(content), sample("starry_night_google.jpg"), "-o", str(out), "--size", "96", "--steps", "4",
                   "--preview-every", "2", "--previews", str(previews))
    assert done.returncode == 0, done.stderr
    assert "saved %s" % out in done.stderr and "4/4" in done.stderr
    with Image.open(out) as result, Image.open(content) as original:
        assert result.size == (120, 80)
        assert result.convert("RGB").tobytes() != original.convert("RGB").tobytes()
    assert sorted(p.name for p in previews.iterdir()) == ["step00002.png", "step00004.png"]


def test_mistakes_exit_2_with_a_message(tmp_path):
    style = sample("starry_night_google.jpg")
    bad = stylize(sample("chelsea.png"), style, "-o", str(tmp_path / "o.png"), "--style-weight", "1",
                  "--style-weight", "2")
    assert bad.returncode == 2 and "1 style images but 2 --style-weight values" in bad.stderr
    missing = stylize(str(tmp_path / "none.png"), style, "-o", str(tmp_path / "o.png"))
    assert missing.returncode == 2 and "cannot read image" in missing.stderr
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (8, 8)).save(tiny)
    refused = stylize(str(tiny), style, "-o", str(tmp_path / "o.png"), "--steps", "2")
    assert refused.returncode == 2 and "too small to stylise" in refused.stderr
    assert not (tmp_path / "o.png").exists()
