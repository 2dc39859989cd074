"""installer.krita_dirs and prereqs: each Krita's resource folder and kritarc per OS (faked homes), the
folder a zip-imported plugin sits in getting backend.json, and the Python and venv checks."""

import json
import os
import zipfile

import pytest

from installer import krita_dirs, plugin, prereqs
from installer.console import Fail
from installer.krita_dirs import Krita, choose


def test_windows_finds_krita_org_and_the_store_builds_sandboxed_appdata(tmp_path):
    local, roaming = tmp_path / "Local", tmp_path / "Roaming"
    store = local / "Packages" / "49800KritaProject.Krita_n3kgb906j1zjg" / "LocalCache"
    (store / "Roaming" / "krita").mkdir(parents=True)
    env = {"APPDATA": str(roaming), "LOCALAPPDATA": str(local)}
    assert krita_dirs.candidates("win32", env, str(tmp_path)) == [
        Krita("krita.org", str(roaming / "krita"), str(local / "kritarc")),
        Krita("Microsoft Store", str(store / "Roaming" / "krita"), str(store / "Local" / "kritarc"))]
    assert choose("win32", env, str(tmp_path))[0] == [krita_dirs.candidates("win32", env, str(tmp_path))[1]]


def test_macos_and_linux_places(tmp_path):
    home = str(tmp_path)
    assert krita_dirs.candidates("darwin", {}, home) == [
        Krita("macOS", home + "/Library/Application Support/krita", home + "/Library/Preferences/kritarc")]
    linux = krita_dirs.candidates("linux", {"XDG_DATA_HOME": "/d", "XDG_CONFIG_HOME": "/c"}, home)
    assert linux == [Krita("Linux", "/d/krita", "/c/kritarc"),
                     Krita("Flatpak", home + "/.var/app/org.kde.krita/data/krita",
                           home + "/.var/app/org.kde.krita/config/kritarc"),
                     Krita("Snap", home + "/snap/krita/current/.local/share/krita",
                           home + "/snap/krita/current/.config/kritarc")]


def test_the_first_found_is_chosen_and_the_others_named(tmp_path):
    home = str(tmp_path)
    for kind in krita_dirs.candidates("linux", {}, home)[1:]:
        os.makedirs(kind.resources)
    kritas, notes = choose("linux", {}, home)
    assert [k.kind for k in kritas] == ["Flatpak"] and "Snap Krita's folder" in notes[0]
    nothing, notes = choose("linux", {}, str(tmp_path / "empty"))
    assert nothing[0].kind == "Linux" and "no Krita resource folder found" in notes[0]


def test_a_custom_resource_folder_in_kritarc_is_used(tmp_path):
    rc = tmp_path / ".config" / "kritarc"
    rc.parent.mkdir()
    rc.write_text("ResourceDirectory=%s\n\n[General]\nResourceDirectory=/not/this\n" % (tmp_path / "art"))
    assert choose("linux", {}, str(tmp_path))[0] == [Krita("Linux", str(tmp_path / "art"), str(rc))]


def test_a_given_folder_takes_the_matching_kritarc(tmp_path):
    home = str(tmp_path)
    flatpak = home + "/.var/app/org.kde.krita/data/krita"
    rc = home + "/.var/app/org.kde.krita/config/kritarc"
    assert choose("linux", {}, home, flatpak)[0] == [Krita("given", flatpak, rc)]
    assert choose("linux", {}, home, "/x/krita", "/y/rc")[0] == [Krita("given", "/x/krita", "/y/rc")]


def test_a_plugin_imported_from_the_zip_into_the_flatpaks_folder_gets_backend_json(tmp_path, monkeypatch, capsys):
    import install
    home = tmp_path / "home"
    (home / ".local" / "share" / "krita").mkdir(parents=True)   # a native Krita too, without the plugin
    pykrita = home / ".var" / "app" / "org.kde.krita" / "data" / "krita" / "pykrita"
    with zipfile.ZipFile(plugin.make_zip(str(tmp_path / "dist"), "0")) as z:   # what Krita's importer does
        z.extractall(str(pykrita))
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    assert install.main(["--remote", "local"]) == 0
    where = json.loads((pykrita / "krita_nst" / "backend.json").read_text())
    assert where["root"] == install.ROOT and "imported from its zip" in capsys.readouterr().out
    assert not (home / ".local" / "share" / "krita" / "pykrita").exists()
    assert "enable_krita_nst=true" in (home / ".var" / "app" / "org.kde.krita" / "config" / "kritarc").read_text()


def test_the_sandbox_warning_names_flatpak_and_a_system_python():
    flatpak = Krita("Flatpak", "/h/.var/app/org.kde.krita/data/krita", "/h/rc")
    assert "own /usr" in krita_dirs.sandboxed(flatpak, "/usr/bin/python3.11")
    assert krita_dirs.sandboxed(flatpak, "/home/me/.local/share/uv/python/bin/python3") is None
    assert krita_dirs.sandboxed(flatpak._replace(kind="Linux"), "/usr/bin/python3") is None


@pytest.mark.parametrize("version, bits, exe, system, expected", [
    ((3, 9), 64, "/usr/bin/python3", "darwin", "Python 3.9 (/usr/bin/python3); torch 2.13 has wheels for Python 3.10 "
                                               "to 3.14 only. Install Python 3.12 from https://www.python.org/downloads/macos/"),
    ((3, 15), 64, "python3", "linux", "sudo apt install python3 python3-venv"),
    ((3, 12), 32, r"C:\Python312-32\python.exe", "win32",
     "is 32-bit; torch needs a 64-bit Python. Install Python 3.12 (64-bit)"),
    ((3, 12), 64, r"C:\Users\a\AppData\Local\Microsoft\WindowsApps\python3.12.exe", "win32",
     "Microsoft Store's Python"),
])
def test_a_python_torch_cannot_use_is_refused_with_what_to_install(version, bits, exe, system, expected):
    assert expected in prereqs.python_problem(version, bits, exe, system)


def test_a_good_python_passes_and_a_missing_ensurepip_names_the_package():
    assert prereqs.python_problem((3, 10), 64, "/usr/bin/python3", "linux") is None
    assert prereqs.python_problem((3, 14), 64, r"C:\Python314\python.exe", "win32") is None
    assert "sudo apt install python3.11-venv" in prereqs.python_problem((3, 11), 64, "python3", "linux", False)


def test_windows_venv_goes_to_a_short_per_user_path_and_a_long_one_is_refused():
    assert prereqs.default_venv("/src", "win32", {"LOCALAPPDATA": "C:\\Users\\a\\AppData\\Local"}) \
        == os.path.join("C:\\Users\\a\\AppData\\Local", "krita-nst", "venv")
    assert prereqs.default_venv("/src", "linux", {}) == os.path.join("/src", ".venv")
    prereqs.check_venv_path("C:\\Users\\a\\AppData\\Local\\krita-nst\\venv", "win32", False)
    deep = "C:\\Users\\artist\\Downloads\\krita-nst-1.4.0\\krita-nst-1.4.0\\backend-venv"
    with pytest.raises(Fail, match="WinError 206"):
        prereqs.check_venv_path(deep + "-x" * 5, "win32", False)
    prereqs.check_venv_path(deep + "-x" * 5, "win32", True)    # long paths on
    prereqs.check_venv_path(deep * 3, "linux", False)
