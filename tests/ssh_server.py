"""A throwaway OpenSSH server on 127.0.0.1 for the ssh backend tests (pytest fixture `ssh_server`).

Its own host key and user key (ssh-keygen), an sshd_config in a temp folder, `sshd -D -e` on a free
high port.  The "remote" krita-nst checkout is this one.  ssh as root reads keys and known_hosts from
the password database's home, not $HOME, so the client options name them: `SshServer.options`.
"""

import os
import shlex
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import List, NamedTuple

import pytest

from helpers import REPO

SSHD = "/usr/sbin/sshd"


class SshServer(NamedTuple):
    port: int
    folder: Path
    key: Path           # the user key sshd accepts
    wrong_key: Path     # a key it does not
    known_hosts: Path
    process: subprocess.Popen

    def options(self, key=None) -> str:
        """The `ssh_options` setting for this server (shlex-joined)."""
        return " ".join(shlex.quote(w) for w in [
            "-i", str(key or self.key), "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=%s" % self.known_hosts,
            "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5", "-F", "/dev/null"])

    def spec(self, path: str = REPO) -> str:
        return "ssh://root@127.0.0.1:%d%s" % (self.port, path)

    def remote_backends(self) -> List[int]:
        """Live `backend serve` processes started through this server (their SSH_CONNECTION ends in its port)."""
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                args = Path("/proc/%s/cmdline" % pid).read_bytes().split(b"\0")
                env = Path("/proc/%s/environ" % pid).read_bytes().split(b"\0")
                state = Path("/proc/%s/stat" % pid).read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            mine = any(e.startswith(b"SSH_CONNECTION=") and e.endswith(b" %d" % self.port) for e in env)
            if mine and state != "Z" and b"backend" in args and b"serve" in args:
                found.append(int(pid))
        return found

    def clients(self) -> List[int]:
        """Live ssh client processes connecting to this server."""
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                args = Path("/proc/%s/cmdline" % pid).read_bytes().split(b"\0")
            except OSError:
                continue
            if args and os.path.basename(args[0]) == b"ssh" and str(self.port).encode() in args:
                found.append(int(pid))
        return found

    def wait_no_backends(self, timeout: float = 10.0) -> List[int]:
        deadline = time.monotonic() + timeout
        while self.remote_backends() and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.remote_backends()


def available() -> bool:
    return os.path.exists(SSHD) and all(shutil.which(t) for t in ("ssh", "ssh-keygen")) and \
        hasattr(os, "geteuid") and os.geteuid() == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "krita-nst-test", "-f", str(path)],
                   check=True)


def start(folder: Path) -> SshServer:
    folder.mkdir(parents=True, exist_ok=True)
    host_key, key, wrong = folder / "host_key", folder / "user_key", folder / "wrong_key"
    for path in (host_key, key, wrong):
        keygen(path)
    (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
    port = free_port()
    host_pub = (folder / "host_key.pub").read_text().split()
    known_hosts = folder / "known_hosts"
    known_hosts.write_text("[127.0.0.1]:%d %s %s\n" % (port, host_pub[0], host_pub[1]))
    config = folder / "sshd_config"
    config.write_text("\n".join([
        "Port %d" % port, "ListenAddress 127.0.0.1", "HostKey %s" % host_key,
        "AuthorizedKeysFile %s" % (folder / "authorized_keys"), "PermitRootLogin prohibit-password",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
        "PidFile %s" % (folder / "sshd.pid"), "LogLevel INFO", ""]))
    os.makedirs("/run/sshd", exist_ok=True)
    log = open(folder / "sshd.log", "wb")
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 15
    while True:
        assert process.poll() is None, "sshd exited: " + (folder / "sshd.log").read_text()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(4).startswith(b"SSH-"):
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "sshd did not accept: " + (folder / "sshd.log").read_text()
        time.sleep(0.05)
    return SshServer(port, folder, key, wrong, known_hosts, process)


def stop(server: SshServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(5)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="module")
def ssh_server(tmp_path_factory):
    if not available():
        pytest.skip("needs root and OpenSSH (apt-get install -y openssh-server)")
    server = start(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        stop(server)
