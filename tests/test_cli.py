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
                   "--preview-every", "2", "--previews", str(previews), "--resolution", "working")
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


def test_the_progress_is_plain_lines_into_a_pipe(tmp_path):
    content = tmp_path / "cat.png"
    with Image.open(sample("chelsea.png")) as img:
        img.resize((96, 64)).save(content)
    done = stylize(str(content), sample("starry_night_google.jpg"), "-o", str(tmp_path / "o.png"), "--size", "64",
                   "--steps", "3", "--preview-every", "1", "--resolution", "working")
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    bars = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert len(bars) >= 3 and bars[-1].startswith("[" + "#" * 30 + "]")   # a line per preview, the last full


def animate(*args):
    return subprocess.run([venv_python(), "-m", "backend", "animate", *args], cwd=REPO, capture_output=True,
                          env=dict(os.environ, KRITA_NST_DEVICE="cpu"), text=True, timeout=600)


def test_a_folder_of_frames_is_animated_with_holds_and_blanks_kept(tmp_path):
    """Four files: a pan's two frames, the second held once more, then a blank one: three runs' worth, four files."""
    frames, out = tmp_path / "shot", tmp_path / "out"
    frames.mkdir()
    with Image.open(sample("chelsea.png")) as img:
        img = img.convert("RGB")
        img.crop((100, 100, 196, 164)).save(frames / "f1.png")
        for name in ("f2.png", "f3.png"):
            img.crop((106, 100, 202, 164)).save(frames / name)
    Image.new("RGBA", (96, 64)).save(frames / "f4.png")
    done = animate(str(frames), sample("starry_night_google.jpg"), "-o", str(out), "--size", "64", "--steps", "8")
    assert done.returncode == 0, done.stderr
    assert "4 frames, 2 to stylise" in done.stderr and "frame 2/3" in done.stderr and "\r" not in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["f1.png", "f2.png", "f3.png", "f4.png"]
    assert (out / "f2.png").read_bytes() == (out / "f3.png").read_bytes()           # a hold: one run, twice
    with Image.open(out / "f4.png") as blank:
        assert blank.getextrema()[3] == (0, 0)                                     # the blank stays blank
    with Image.open(out / "f1.png") as first, Image.open(frames / "f1.png") as original:
        assert first.size == (96, 64) and first.convert("RGB").tobytes() != original.tobytes()
    assert animate(str(tmp_path / "none" / "*.png"), sample("starry_night_google.jpg"), "-o", str(out)).returncode == 2
    Image.new("RGB", (40, 40)).save(frames / "f5.png")
    refused = animate(str(frames), sample("starry_night_google.jpg"), "-o", str(out), "--steps", "2")
    assert refused.returncode == 2 and "frame 4 is 40x40 px" in refused.stderr, refused.stderr
