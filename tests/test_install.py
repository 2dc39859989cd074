"""install.py's kritarc editing (it enables the plugin and leaves every other line as it was), its
--remote, and a user's mistake ending in a message and exit 2, not a traceback."""

import os

import install
from installer import kritarc

KRITARC = """[General]
ShowSplash=false
ColorSpace=RGBA

[python]
enable_other_plugin=true

[krita_nst]
strength=70
"""


def test_enabling_adds_one_key_to_the_existing_section(tmp_path):
    path = tmp_path / "kritarc"
    path.write_text(KRITARC)
    kritarc.set_ini_value(str(path), "python", "enable_krita_nst", "true")
    lines = path.read_text().splitlines()
    assert lines[lines.index("[python]") + 1:lines.index("[python]") + 3] == ["enable_other_plugin=true",
                                                                             "enable_krita_nst=true"]
    assert [line for line in lines if line != "enable_krita_nst=true"] == KRITARC.splitlines()


def test_it_is_idempotent_and_replaces_a_value_in_place(tmp_path):
    path = tmp_path / "kritarc"
    path.write_text(KRITARC)
    for _ in range(3):
        kritarc.set_ini_value(str(path), "python", "enable_krita_nst", "true")
    once = path.read_text()
    assert once.count("enable_krita_nst") == 1
    kritarc.set_ini_value(str(path), "krita_nst", "strength", "40")
    assert "strength=40" in path.read_text() and "strength=70" not in path.read_text()


def test_a_missing_file_or_section_is_created(tmp_path):
    path = tmp_path / "sub" / "kritarc"
    kritarc.set_ini_value(str(path), "python", "enable_krita_nst", "true")
    assert path.read_text() == "[python]\nenable_krita_nst=true\n"
    kritarc.set_ini_value(str(path), "krita_nst", "backend", "local")
    assert path.read_text() == "[python]\nenable_krita_nst=true\n\n[krita_nst]\nbackend=local\n"


def test_removing_takes_out_only_that_key(tmp_path):
    path = tmp_path / "kritarc"
    path.write_text(KRITARC.replace("enable_other_plugin=true", "enable_other_plugin=true\nenable_krita_nst=true"))
    kritarc.set_ini_value(str(path), "python", "enable_krita_nst", None)
    assert path.read_text() == KRITARC
    kritarc.set_ini_value(str(path), "python", "enable_krita_nst", None)   # absent: nothing changes
    assert path.read_text() == KRITARC


def test_remote_validates_the_spec_and_local_sets_it_back(tmp_path, capsys):
    path, krita = tmp_path / "kritarc", str(tmp_path / "krita")
    path.write_text(KRITARC)
    assert install.main(["--remote", "gpu-box:/x", "--kritarc", str(path), "--krita-dir", krita]) == 2
    assert "`backend`" in capsys.readouterr().out and path.read_text() == KRITARC
    assert install.main(["--remote", "ssh://gpu-box/x", "--ssh-options", "-i 'open", "--kritarc", str(path),
                         "--krita-dir", krita]) == 2
    assert "`ssh_options`" in capsys.readouterr().out and path.read_text() == KRITARC
    path.write_text(KRITARC + "backend=ssh://gpu-box/x\nssh_options=-i k\n")
    assert install.main(["--remote", "local", "--kritarc", str(path), "--krita-dir", krita]) == 0
    text = path.read_text()
    assert "backend=local" in text and "ssh_options" not in text and "strength=70" in text
    assert os.path.exists(os.path.join(krita, "pykrita", "krita_nst", "core", "backends.py"))


def test_a_mistake_is_a_message_and_exit_2(tmp_path, capsys):
    assert install.main(["--torch", "cuda12", "--no-demo", "--venv", str(tmp_path / "venv"),
                         "--krita-dir", str(tmp_path / "krita"), "--kritarc", str(tmp_path / "kritarc")]) == 2
    out = capsys.readouterr().out
    assert "cannot go on: --torch cuda12: give auto, cpu, cuda" in out and "Traceback" not in out
    assert not (tmp_path / "venv").exists()


def test_reading_a_key_of_the_default_group_or_a_section(tmp_path):
    path = tmp_path / "kritarc"
    path.write_text("ResourceDirectory=/art\n" + KRITARC)
    assert kritarc.read_ini_value(str(path), None, "ResourceDirectory") == "/art"
    assert kritarc.read_ini_value(str(path), "krita_nst", "strength") == "70"
    assert kritarc.read_ini_value(str(path), "General", "strength") is None
    assert kritarc.read_ini_value(str(tmp_path / "none"), None, "x") is None
