"""The `backend` / `ssh_options` settings: parsing, the ssh command line, the messages for ssh failures."""

import shlex

import pytest

from krita_nst.core import backends


def test_local_is_the_default():
    assert backends.parse("") is None and backends.parse("local") is None and backends.parse(" local ") is None
    assert backends.local("/v/bin/python", "/r", 42) == (("/v/bin/python", "-m", "backend", "serve",
                                                          "--parent-pid", "42"), "/r", "", "raw")
    assert backends.local("/p", "/r").where() == ""


def test_an_ssh_spec_becomes_one_safe_ssh_command():
    spec = backends.parse("ssh://me@gpu-box:2222/home/me/krita%20nst's/", "-i '/k/my key' -F /dev/null")
    assert spec == backends.SshSpec("me", "gpu-box", 2222, "/home/me/krita nst's", ("-i", "/k/my key", "-F",
                                                                                   "/dev/null"))
    backend = backends.ssh(spec)
    argv = list(backend.argv)
    assert argv[:8] == ["ssh", "-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5",
                        "-o", "ServerAliveCountMax=3"]
    assert argv[8:14] == ["-p", "2222", "-i", "/k/my key", "-F", "/dev/null"]
    assert argv[14] == "me@gpu-box"
    # The remote shell sees the path as one word, whatever it holds.
    words = shlex.split(argv[15])
    assert words[:3] == ["cd", "/home/me/krita nst's", "&&"] and words[3:] == [
        "exec", ".venv/bin/python", "-m", "backend", "serve", "--link-timeout", str(backends.LINK_TIMEOUT)]
    assert backend.host == "gpu-box" and backend.where() == " on gpu-box" and backend.cwd == ""
    assert backend.transfer == "png"   # a network: images travel compressed
    plain = backends.ssh(backends.parse("ssh://gpu-box/srv/nst"))
    assert "-p" not in plain.argv and plain.argv[-2] == "gpu-box"
    assert backends.parse("ssh://[::1]:22/x").host == "::1"


@pytest.mark.parametrize("spec, words", [
    ("gpu-box:/home/me", "neither `local`"),
    ("http://gpu-box/x", "neither `local`"),
    ("ssh://gpu-box", "absolute path"),
    ("ssh://gpu-box/", "absolute path"),
    ("ssh://gpu-box:99999/x", "bad host or port"),
    ("ssh://gpu-box:port/x", "bad host or port"),
    ("ssh://-oProxyCommand=x/x", "no usable host"),
    ("ssh://me:secret@gpu-box/x", "password"),
    ("ssh://gpu-box/x?i=key", "no ?query"),
])
def test_a_bad_spec_names_the_setting_and_shows_an_example(spec, words):
    with pytest.raises(backends.BadSpec) as caught:
        backends.parse(spec)
    message = str(caught.value)
    assert words in message and "`backend`" in message and backends.EXAMPLE in message


@pytest.mark.parametrize("options", ["-i 'unclosed", "gpu-box -i key"])
def test_bad_ssh_options_are_named(options):
    with pytest.raises(backends.BadSpec, match="`ssh_options`.*Example"):
        backends.parse("ssh://gpu-box/x", options)


@pytest.mark.parametrize("code, said, spoke, words", [
    (255, "me@gpu-box: Permission denied (publickey).", False, ["ssh-keygen", "ssh-copy-id gpu-box",
                                                                "ssh -o BatchMode=yes gpu-box true"]),
    (255, "Host key verification failed.", False, ["Connect once from a terminal"]),
    (255, "ssh: Could not resolve hostname gpu-box: Name or service not known", False, ["host name and port"]),
    (255, "ssh: connect to host gpu-box port 22: Connection refused", False, ["host name and port"]),
    (255, "ssh: connect to host gpu-box port 22: Connection timed out", False, ["host name and port"]),
    (2, "sh: 1: cd: can't cd to /nope", False, ["install.py"]),
    (127, "sh: 1: exec: .venv/bin/python: not found", False, ["install.py"]),
    (-1, "", True, ["connection to gpu-box was lost", "reconnect"]),
])
def test_ssh_failures_say_what_to_do(code, said, spoke, words):
    message = backends.ssh_failure("gpu-box", code, said, spoke)
    assert message.startswith("The backend on gpu-box is unavailable")
    for word in words:
        assert word in message, (word, message)
    if said:
        assert said in message
