"""The backend on "another machine": the Controller speaks to it through a real ssh to a real sshd on
127.0.0.1 (tests/ssh_server.py), with PyQt5 from pip and a real QProcess, like tests/test_controller.py."""

import os
import shlex
import signal
import sys
import time

import pytest
from ssh_server import ssh_server  # noqa: F401  (the fixture)

import install
from helpers import LONG, REPO, SMALL, fake_backend_main, listening_inodes, socket_inodes, spin, submit, venv_python
from krita_nst.controller import Controller
from krita_nst.core import backends
from krita_nst.core.version import VERSION
from krita_nst.job import CANCELLED, DONE, FAILED


def make_controller(server, tmp_path, key=None, path=REPO, extra=""):
    setting = {"backend": server.spec(path), "ssh_options": server.options(key) + extra}
    ctl = Controller(lambda: backends.ssh(backends.parse(setting["backend"], setting["ssh_options"])),
                     lambda: str(tmp_path / "backend.log"))
    ctl.setting, ctl.messages, ctl.ready = setting, [], []
    ctl.message.connect(ctl.messages.append)
    ctl.backend_ready.connect(ctl.ready.append)
    return ctl


@pytest.fixture
def remote(app, ssh_server, tmp_path):  # noqa: F811
    ctl = make_controller(ssh_server, tmp_path)
    yield ctl
    ctl.shutdown()
    assert ssh_server.wait_no_backends() == [], "a remote backend outlived the controller"


def failure_of(app, job, timeout=30):
    failures = []
    job.failed.connect(failures.append)
    spin(app, lambda: not job.running(), timeout, "the job to fail")
    assert job.state == FAILED
    return failures[0]


def test_a_job_over_ssh_streams_previews_and_ends_done(app, remote, ssh_server):  # noqa: F811
    started = time.monotonic()
    job, layer = submit(remote, SMALL)
    spin(app, lambda: not job.running(), what="the job over ssh")
    assert job.state == DONE and layer.marks == [] and len(layer.images) >= 3
    assert (layer.images[-1].width, layer.images[-1].height) == (451, 300)
    assert remote.ready and remote.ready[0].endswith(" on 127.0.0.1"), remote.ready
    print("\nssh: first preview %.2f s, done %.2f s" % (job.first_preview_s, time.monotonic() - started))
    ssh_pid = remote.backend_pid()
    assert ssh_pid and "ssh" in open("/proc/%d/cmdline" % ssh_pid).read()
    assert len(ssh_server.remote_backends()) == 1
    # No listening socket on the remote side either: the backend only has its stdin and stdout.
    assert not socket_inodes(ssh_server.remote_backends()[0]) & listening_inodes()
    job, _ = submit(remote, SMALL)   # warm: the same connection
    spin(app, lambda: not job.running(), what="the second job")
    assert job.state == DONE and remote.backend_pid() == ssh_pid


def test_cancel_over_ssh(app, remote):
    job, layer = submit(remote, LONG)
    spin(app, lambda: len(layer.images) >= 1, 120, "a first preview")
    asked = time.monotonic()
    remote.cancel()
    spin(app, lambda: not job.running(), 30, "the cancel")
    assert time.monotonic() - asked < 10
    assert job.state == CANCELLED and layer.marks == ["cancelled"] and not remote.busy()


def test_killing_ssh_mid_run_fails_partial_then_the_next_job_reconnects(app, remote, ssh_server):  # noqa: F811
    job, layer = submit(remote, LONG)
    spin(app, lambda: len(layer.images) >= 1, 120, "a first preview")
    ssh_pid = remote.backend_pid()
    os.kill(ssh_pid, signal.SIGKILL)
    why = failure_of(app, job)
    assert layer.marks == ["partial"]
    assert "connection to 127.0.0.1 was lost" in why and "reconnect" in why and "backend.log" in why, why
    assert ssh_server.wait_no_backends() == [], "the remote backend outlived its connection"
    job, _ = submit(remote, SMALL)
    spin(app, lambda: not job.running(), what="a job on a new connection")
    assert job.state == DONE and remote.backend_pid() not in (None, ssh_pid)


def test_a_network_that_goes_silent_fails_partial_and_leaves_no_remote_backend(app, ssh_server, tmp_path):  # noqa: F811
    """The link freezes (a relay under ssh's ProxyCommand is stopped): no EOF anywhere, only silence."""
    relay = tmp_path / "relay.pid"
    proxy = "sh -c 'echo $$ > %s; exec %s %s 127.0.0.1 %d 1000'" % (
        relay, sys.executable, os.path.join(REPO, "benchmarks", "slow_link.py"), ssh_server.port)
    ctl = make_controller(ssh_server, tmp_path, extra=" -o %s" % shlex.quote("ProxyCommand=" + proxy))
    try:
        job, layer = submit(ctl, LONG)
        spin(app, lambda: len(layer.images) >= 1, 120, "a first preview")
        os.kill(int(relay.read_text()), signal.SIGSTOP)
        frozen = time.monotonic()
        why = failure_of(app, job, 40)
        print("\nfrozen link: the job failed after %.1f s" % (time.monotonic() - frozen))
        assert layer.marks == ["partial"] and "network to 127.0.0.1 went silent" in why and "again" in why, why
        assert ssh_server.wait_no_backends(backends.LINK_TIMEOUT + 15) == [], "the remote backend outlived the link"
        print("frozen link: the remote backend exited %.1f s after the freeze" % (time.monotonic() - frozen))
    finally:
        ctl.shutdown()
        os.kill(int(relay.read_text()), signal.SIGKILL)


def test_a_key_the_server_refuses_says_how_to_set_one_up_quickly(app, ssh_server, tmp_path):  # noqa: F811
    ctl = make_controller(ssh_server, tmp_path, key=ssh_server.wrong_key)
    try:
        asked = time.monotonic()
        job, layer = submit(ctl, SMALL)
        why = failure_of(app, job, 20)
        assert time.monotonic() - asked < 15, "BatchMode must never wait for a password"
        assert "Permission denied (publickey)" in why and "ssh-keygen" in why and "ssh-copy-id" in why, why
        assert "ssh -o BatchMode=yes 127.0.0.1 true" in why and layer.discarded
    finally:
        ctl.shutdown()


def test_a_remote_folder_without_the_backend_says_run_install_there(app, ssh_server, tmp_path):  # noqa: F811
    ctl = make_controller(ssh_server, tmp_path, path=str(tmp_path / "no such checkout"))
    try:
        why = failure_of(app, submit(ctl, SMALL)[0], 20)
        assert "install.py" in why and "no such checkout" in why, why
    finally:
        ctl.shutdown()


def test_changing_the_setting_restarts_the_client_and_shutdown_leaves_nothing(app, remote, ssh_server):  # noqa: F811
    job, _ = submit(remote, SMALL)
    spin(app, lambda: not job.running(), what="the job over ssh")
    ssh_pid = remote.backend_pid()
    local = backends.local(venv_python(), REPO, os.getpid())
    remote._locate_backend = lambda: local      # the artist set backend=local
    job, _ = submit(remote, SMALL)
    spin(app, lambda: not job.running(), what="the job on this machine")
    assert job.state == DONE and not pid_alive_or_zombie(ssh_pid)
    assert ssh_server.wait_no_backends() == [] and not remote.ready[-1].endswith("127.0.0.1")
    remote.shutdown()


def pid_alive_or_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_install_remote_writes_the_setting_after_checking_the_connection(ssh_server, tmp_path, capsys):  # noqa: F811
    kritarc, krita = tmp_path / "kritarc", str(tmp_path / "krita")
    argv = ["--remote", ssh_server.spec(), "--ssh-options", ssh_server.options(), "--kritarc", str(kritarc),
            "--krita-dir", krita]
    assert install.main(argv) == 0, capsys.readouterr().out
    assert "checked: 127.0.0.1 answers" in capsys.readouterr().out
    lines = kritarc.read_text().splitlines()
    assert "backend=%s" % ssh_server.spec() in lines and "ssh_options=%s" % ssh_server.options() in lines
    assert install.main(argv[:3] + [ssh_server.options(ssh_server.wrong_key)] + argv[4:]) == 1
    assert "ssh-copy-id" in capsys.readouterr().out


def test_a_remote_backend_of_another_version_names_the_host_and_both_versions(app, ssh_server, tmp_path):  # noqa: F811
    fake = tmp_path / "fake"
    (fake / ".venv" / "bin").mkdir(parents=True)
    (fake / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (fake / "backend").mkdir()
    (fake / "backend" / "__main__.py").write_text(fake_backend_main(settings_schema="0ld", backend_version="0.0.1"))
    ctl = make_controller(ssh_server, tmp_path, path=str(fake))
    try:
        why = failure_of(app, submit(ctl, SMALL)[0])
        assert "The backend on 127.0.0.1 is krita-nst 0.0.1" in why and "this plugin is krita-nst %s" % VERSION \
            in why and "install.py on 127.0.0.1" in why, why
    finally:
        ctl.shutdown()
