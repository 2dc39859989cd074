"""krita_nst/config.py (kritarc through the fake Krita) and krita_nst/watcher.py (the one timer)."""

import json

import pytest

import fake_krita  # installs itself as `krita`: first
from helpers import spin
from krita_nst import config
from krita_nst.core import backends
from krita_nst.watcher import Watcher

krita = fake_krita.krita   # the fixture
GROUP = config.GROUP


def test_settings_read_their_defaults_parse_kritarc_and_fall_back_on_bad_values(krita, told):
    assert config.read("strength") == 50 and config.read("preserve_colors") == "none"
    krita.writeSetting(GROUP, "strength", "72.5")
    krita.writeSetting(GROUP, "steps", "lots")   # a script wrote nonsense: the default, never an exception
    assert config.read("strength") == 72.5 and config.read("steps") == 100 and "steps=lots" in told[0]
    config.write("size", 384)
    assert krita.readSetting(GROUP, "size", "") == "384" and config.job_settings()["size"] == 384
    assert "feather" not in config.job_settings()   # the plugin's own settings never go to the backend
    with pytest.raises(ValueError):
        config.write("preserve_colors", "sepia")
    assert config.raw("strength") == "72.5" and config.raw("seed") == ""


@pytest.fixture
def told(monkeypatch):
    """What the plugin tells the artist about unreadable kritarc values (a fresh record for each test)."""
    monkeypatch.setattr(config, "UNREADABLE", config.Unreadable())
    messages = []
    config.on_unreadable(messages.append)
    return messages


def test_an_unreadable_value_is_told_once_with_its_key_and_value_before_the_default_is_used(krita, told):
    krita.writeSetting(GROUP, "strength", "nan")
    seen = []
    config.on_unreadable(lambda message: seen.append(krita.readSetting(GROUP, "strength", "")))
    assert config.job_settings()["strength"] == 50 and config.read("strength") == 50
    assert told == ["The krita_nst setting strength=nan in kritarc cannot be used (strength must be a finite "
                    "number, not nan): using its default, 50.0, until it is set again (in the docker, or in kritarc)."]
    assert seen == ["nan"] and config.UNREADABLE.problems() == {"strength": "nan"}
    krita.writeSetting(GROUP, "strength", "lots")   # another bad value: told too
    krita.writeSetting(GROUP, "size", "3")          # out of range
    config.read("strength"), config.read("size"), config.read("size")
    assert len(told) == 3 and "strength=lots" in told[1] and "size=3" in told[2] and "between 64" in told[2]
    config.write("strength", 70)                    # fixed: no problem; broken again later: told again
    assert config.read("strength") == 70 and "strength" not in config.UNREADABLE.problems()
    krita.writeSetting(GROUP, "strength", "lots")
    assert config.read("strength") == 50 and len(told) == 4


def test_told_before_anyone_listens_the_message_waits_for_the_first_listener(krita, monkeypatch):
    monkeypatch.setattr(config, "UNREADABLE", config.Unreadable())
    krita.writeSetting(GROUP, "preserve_colors", "sepia")
    assert config.read("preserve_colors") == "none"
    later = []
    config.on_unreadable(later.append)
    assert len(later) == 1 and "preserve_colors=sepia" in later[0] and "using its default, none" in later[0]
    config.read("preserve_colors")
    assert len(later) == 1


def test_json_values_round_trip_and_unreadable_ones_are_none(krita):
    config.write_json("speeds", {"cpu": 0.5})
    assert config.read_json("speeds") == {"cpu": 0.5}
    krita.writeSetting(GROUP, "speeds", "{not json")
    assert config.read_json("speeds") is None and config.read_json("absent") is None


def test_the_backend_setting_is_checked_and_chooses_local_or_ssh(krita, tmp_path, monkeypatch):
    assert config.backend_setting() == backends.LOCAL
    with pytest.raises(backends.BadSpec):
        config.write_backend_setting("ftp://nowhere")
    assert config.backend_setting() == backends.LOCAL   # a bad address is never written
    config.write_backend_setting("ssh://me@gpu-box/home/me/krita-nst")
    krita.writeSetting(GROUP, "ssh_options", "-p 2222")
    remote = config.backend_location()
    assert remote.host == "gpu-box" and "2222" in remote.argv and remote.transfer == "png"
    config.write_backend_setting("  ")
    monkeypatch.setattr(config, "BACKEND_FILE", str(tmp_path / "backend.json"))
    with pytest.raises(config.BackendMissing, match="not installed"):
        config.backend_location()
    (tmp_path / "backend.json").write_text(json.dumps({"python": str(tmp_path / "nope"), "root": str(tmp_path)}))
    with pytest.raises(config.BackendMissing, match="missing"):
        config.backend_location()


def test_the_logs_live_in_kritas_app_data_folder(krita, tmp_path):
    assert config.log_path() == str(tmp_path / "krita_nst" / "backend.log")
    assert (tmp_path / "krita_nst").is_dir() and config.plugin_log_path().endswith("plugin.log")


def test_the_watcher_says_which_names_changed_and_only_when_one_did(krita, app):
    watcher = Watcher({name: (lambda name=name: config.raw(name)) for name in config.WATCHED}, interval_ms=10)
    seen = []
    watcher.changed.connect(seen.append)
    assert watcher.check() == frozenset() and seen == []
    krita.writeSetting(GROUP, "strength", "65")
    krita.writeSetting(GROUP, "backend", "ssh://h/p")
    assert watcher.check() == {"strength", "backend"} and seen == [{"strength", "backend"}]
    assert watcher.value("strength") == "65"
    krita.writeSetting(GROUP, "strength", "65")   # written again, the same: nothing to say
    assert watcher.check() == frozenset() and len(seen) == 1
    krita.writeSetting(GROUP, "style_file", "/a.png")
    spin(app, lambda: len(seen) == 2, 5, "the watcher's own timer")
    assert seen[1] == {"style_file"}
    watcher.stop()


def test_backend_json_is_looked_for_beside_the_plugin_and_in_kritas_own_resource_folder(krita, tmp_path, monkeypatch):
    """Krita says where its resources are (getAppDataLocation): a plugin loaded from elsewhere, or one whose own
    backend.json is stale, finds the backend recorded there."""
    monkeypatch.setattr(config, "BACKEND_FILE", str(tmp_path / "plugin" / "backend.json"))
    resources = tmp_path / "resources"
    monkeypatch.setattr(fake_krita.Krita, "app_data", str(resources))
    assert config.resource_folder() == str(resources)
    assert config.backend_files() == [str(tmp_path / "plugin" / "backend.json"),
                                      str(resources / "pykrita" / "krita_nst" / "backend.json"),
                                      str(resources / "krita_nst" / "backend.json")]
    (tmp_path / "plugin").mkdir()
    (tmp_path / "plugin" / "backend.json").write_text(json.dumps({"python": "/gone", "root": str(tmp_path)}))
    with pytest.raises(config.BackendMissing, match="expected Python at /gone"):
        config.local_backend()
    assert "Set up backend" in config.backend_problem()
    (tmp_path / "backend").mkdir()
    (resources / "krita_nst").mkdir(parents=True)
    (resources / "krita_nst" / "backend.json").write_text(json.dumps({"python": __file__, "root": str(tmp_path)}))
    assert config.local_backend() == (__file__, str(tmp_path)) and config.backend_problem() is None


def test_without_getappdatalocation_kritarcs_resource_folder_or_the_plugins_own_is_used(krita, monkeypatch, tmp_path):
    monkeypatch.delattr(fake_krita.Krita, "getAppDataLocation")
    monkeypatch.setattr(config, "PLUGIN_DIR", str(tmp_path / "res" / "pykrita" / "krita_nst"))
    assert config.resource_folder() == str(tmp_path / "res")
    krita.writeSetting("", "ResourceDirectory", str(tmp_path / "custom"))
    assert config.resource_folder() == str(tmp_path / "custom")
    monkeypatch.setattr(config, "PLUGIN_DIR", str(tmp_path / "checkout" / "krita_nst"))
    krita.writeSetting("", "ResourceDirectory", "")
    assert config.resource_folder() is None and config.log_folder() == str(tmp_path / "checkout" / "krita_nst")


def test_a_located_backend_is_recorded_beside_the_plugin_or_else_in_the_data_folder(krita, tmp_path, monkeypatch):
    monkeypatch.setattr(fake_krita.Krita, "app_data", str(tmp_path / "resources"))
    monkeypatch.setattr(config, "BACKEND_FILE", str(tmp_path / "plugin" / "backend.json"))
    assert config.write_backend_file("/v/bin/python", "/k") == str(tmp_path / "plugin" / "backend.json")
    (tmp_path / "readonly").write_text("a file, so nothing can be made under it")
    monkeypatch.setattr(config, "BACKEND_FILE", str(tmp_path / "readonly" / "backend.json"))
    path = config.write_backend_file("/v/bin/python", "/k")
    assert path == str(tmp_path / "resources" / "krita_nst" / "backend.json")
    assert json.loads(open(path).read()) == {"python": "/v/bin/python", "root": "/k"}
