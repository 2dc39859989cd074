"""Debian root file systems holding other Krita versions, for the end-to-end tests (run as root).

    root = ensure("6.0")                       # built with mmdebstrap once, then cached as a tarball
    subprocess.run(command("6.0", ["krita", "--version"], binds=[home, out], env={"HOME": home}))

`command` runs argv as root in a chroot into the root, in fresh mount, PID, IPC and network
namespaces: every mount (/proc, /dev, /sys, tmpfs /tmp and /run, the checkout and the binds at their
host paths, the host's / at /host) and every process (Xvfb, Krita, the backend) goes when the
command ends or is killed. The roots run Python 3.14, so the backend runs in the host's file
system: `backend_python` is a launcher that `exec`s the host venv's python under `chroot /host`,
the same process all the way, so it stays Krita's direct child (--parent-pid, PR_SET_PDEATHSIG).
"""

import ctypes
import fcntl
import hashlib
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
from typing import Iterable, Mapping, Optional, Sequence

REPO = pathlib.Path(__file__).resolve().parent.parent
CACHE = pathlib.Path(os.environ.get("KRITA_NST_ROOTS", "/var/cache/krita-nst-roots"))
SCHEMA = 1  # bump to rebuild every root after changing how they are made
# What the tests need in every root besides Krita and its Qt bindings (Recommends are not installed).
# A font Qt can draw with (fontconfig pulls this one in today; named so that it stays). No D-Bus:
# Krita starts without a session bus and says nothing about it.
COMMON = ["xvfb", "xauth", "xdotool", "python3", "coreutils", "fonts-dejavu-core"]
# version: (suite mmdebstrap starts from, suites in sources.list, packages); pkg/suite picks the suite.
# qt6-svg-plugins: without it Krita 6's QML dockers log "Unsupported image format" for their icons.
VERSIONS = {
    "5.2": ("trixie", ["trixie"], ["krita", "python3-pyqt5"]),
    "5.3": ("sid", ["sid"], ["krita", "python3-pyqt5"]),
    "6.0": ("sid", ["sid", "experimental"], ["krita/experimental", "python3-pyqt6", "qt6-svg-plugins"]),
}
PYTHON = "/run/krita-nst/python"  # the launcher, written into the namespace's /run by `command`
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def mirror() -> str:
    """The Debian mirror the host's apt uses (KRITA_NST_MIRROR overrides)."""
    if os.environ.get("KRITA_NST_MIRROR"):
        return os.environ["KRITA_NST_MIRROR"]
    for f in sorted(pathlib.Path("/etc/apt").glob("sources.list*")) + sorted(
            pathlib.Path("/etc/apt/sources.list.d").glob("*")):
        text = f.read_text(errors="replace") if f.is_file() else ""
        for url in re.findall(r"(?:URIs:|^deb)\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            if url.rstrip("/").endswith("/debian"):
                return url.rstrip("/")
    return "http://deb.debian.org/debian"


def _need(tool: str, package: str) -> None:
    if shutil.which(tool) is None:  # Debian hosts: the test command may install what it needs
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def _die_with_parent() -> None:  # preexec_fn: prctl(PR_SET_PDEATHSIG, SIGKILL)
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def _remove(path: pathlib.Path) -> None:
    """rm -r that refuses to reach into a mount (a bind of the host's /dev, say)."""
    with open("/proc/self/mounts") as f:
        mounts = [line.split()[1] for line in f]
    if any(m == str(path) or m.startswith(str(path) + "/") for m in mounts):
        raise RuntimeError("%s has mounts in it: unmount them (umount -R) first" % path)
    shutil.rmtree(path, ignore_errors=True)


def _name(version: str) -> str:
    key = json.dumps([SCHEMA, VERSIONS[version], COMMON]).encode()
    return "krita-%s-%s" % (version, hashlib.sha256(key).hexdigest()[:12])


def ensure(version: str) -> pathlib.Path:
    """The root file system with Krita `version`: as left, else unpacked from the cache, else built."""
    CACHE.mkdir(parents=True, exist_ok=True)
    root, tarball = CACHE / _name(version), CACHE / (_name(version) + ".tar.zst")
    with open(CACHE / (_name(version) + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; the others wait, then reuse it
        if (root / "usr/bin/krita").exists():
            return root
        _remove(root)
        tmp = root.with_name(root.name + ".tmp")  # never used until renamed: a killed build is redone
        _remove(tmp)
        _need("zstd", "zstd")
        if tarball.is_file():
            tmp.mkdir()
            if subprocess.run(["tar", "-I", "zstd", "-xpf", str(tarball), "-C", str(tmp)]).returncode == 0 \
                    and (tmp / "usr/bin/krita").exists():
                tmp.rename(root)
                return root
            _remove(tmp)
            tarball.unlink()  # corrupt or cut short: build again
        first, suites, packages = VERSIONS[version]
        _need("mmdebstrap", "mmdebstrap")
        url = mirror()
        subprocess.run(  # in its own namespaces: if killed, its mounts and its dpkg go with it
            ["unshare", "--mount", "--pid", "--kill-child", "--propagation", "private",
             "mmdebstrap", "--variant=apt", "--components=main", "--include=" + ",".join(packages + COMMON),
             # the archive here is a frozen snapshot: its Release files are past Valid-Until
             "--aptopt=Acquire::Check-Valid-Until \"false\"", "--aptopt=Acquire::Check-Date \"false\"",
             "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
             first, str(tmp)] + ["deb %s %s main" % (url, s) for s in suites], check=True,
            preexec_fn=_die_with_parent)
        part = tarball.with_name(tarball.name + ".tmp")
        subprocess.run(["tar", "-I", "zstd -T0", "-cpf", str(part), "-C", str(tmp), "."], check=True)
        part.rename(tarball)
        tmp.rename(root)
        return root


def backend_python(version: str) -> str:
    """What backend.json's "python" must say inside `version`'s root, under `command`. It runs
    `command`'s host_python (default: the checkout's .venv) with the environment it is given: Krita
    sets PYTHONPATH to the root's Krita folders, which in the host's file system are the host Krita's
    (the host python then segfaults), so the plugin must drop PYTHONPATH, as it must anywhere."""
    return PYTHON


# Run inside the new namespaces as: sh -c SCRIPT - ROOT HOST_PYTHON CWD BIND... -- NAME=VALUE... ARGV...
_SCRIPT = r"""
set -e
R=$1 PY=$2 CWD=$3; shift 3
mkdir -p "$R/host"
mount --rbind / "$R/host"              # the host, for the backend's python (first: no loops)
mount -t proc proc "$R/host/proc"      # with this namespace's PIDs
mount -t proc proc "$R/proc"           # this PID namespace's
mount --rbind /dev "$R/dev"            # with /dev/pts and /dev/shm (Xvfb, Qt)
mount --rbind /sys "$R/sys"
mount -t tmpfs tmpfs "$R/tmp"          # private: Xvfb's :99 and lock files never collide
mount -t tmpfs tmpfs "$R/run"
mkdir -p -m 700 "$R/run/user/0" "$R/run/krita-nst"
while [ "$1" != -- ]; do               # the binds, at the same paths as on the host
    if [ -d "$1" ]; then mkdir -p "$R$1"; else mkdir -p "$R${1%/*}"; touch "$R$1"; fi
    mount --rbind "$1" "$R$1"; shift
done
shift
cat > "$R/run/krita-nst/python" <<EOF
#!/bin/sh
# The host's python in the host's file system; exec all the way: the same process as Krita's child
exec /usr/sbin/chroot /host /bin/sh -c 'cd "\$0" && exec "$PY" "\$@"' "\$PWD" "\$@"
EOF
chmod 755 "$R/run/krita-nst/python"
# Not exec: this shell stays PID 1. PID 1 gets no signal it has no handler for, and xvfb-run waits
# for Xvfb's SIGUSR1, so xvfb-run as PID 1 hangs for ever.
set +e
chroot "$R" /usr/bin/env -i --chdir="$CWD" "$@"
"""


def command(version: str, argv: Sequence[str], binds: Iterable[os.PathLike | str] = (),
            env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None,
            host_python: Optional[str] = None) -> list[str]:
    """argv for subprocess: `argv` as root inside `version`'s root (built if missing), with only `env`
    (PATH defaults to a plain system PATH), in `cwd` (the checkout), the checkout and `binds` mounted
    at their host paths. SIGKILL to it (subprocess's timeout) ends everything it started; unshare
    ignores SIGTERM and SIGINT. Xvfb's display is always :99, private to the command."""
    root = ensure(version)
    env = {"PATH": PATH, "LANG": "C.UTF-8", "XDG_RUNTIME_DIR": "/run/user/0", **(env or {})}
    python = host_python or str(REPO / ".venv" / "bin" / "python")
    paths = [str(pathlib.Path(b).resolve()) for b in [REPO, *binds]]
    return (["unshare", "--mount", "--pid", "--ipc", "--net", "--kill-child", "--propagation", "private",
             "/bin/sh", "-c", _SCRIPT, "-", str(root), python, cwd or str(REPO)] + paths + ["--"]
            + ["%s=%s" % kv for kv in env.items()] + list(argv))
