"""Where the backend runs: this machine's venv, or another machine reached through OpenSSH.

Two plugin settings in kritarc's [krita_nst] group (not job settings):

    backend=local                                   # default: the venv install.py recorded
    backend=ssh://[user@]host[:port]/absolute/path/to/the/krita-nst/checkout
    ssh_options=-i /home/me/.ssh/gpu_key -o ConnectTimeout=5   # optional, split like a shell does

Either way the plugin gets a `Backend`: the argv of its child process, the folder to start it in,
and a description ("on gpu-box"), so local and remote go through one code path.  Pure stdlib.
"""

import re
import shlex
from typing import List, NamedTuple, Optional, Tuple
from urllib.parse import unquote, urlsplit

LOCAL = "local"
EXAMPLE = "ssh://me@gpu-box/home/me/krita-nst"
# Never a prompt: Krita has no terminal.  Keepalives notice a dead link within ~15 s.
SSH_BASE = ("-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3")
SSH_FAILED = 255   # ssh's own exit status when it could not connect (the remote command's otherwise)
# A link that drops silently leaves sshd holding the session for hours: the plugin pings every PING_S
# and the remote backend exits after LINK_TIMEOUT s without a byte (a slow upload still sends bytes).
PING_S, LINK_TIMEOUT = 5, 30   # ssh itself gives up after 15 s (SSH_BASE)


class BadSpec(ValueError):
    """The `backend` or `ssh_options` setting cannot be used; the message says how to write it."""


class Backend(NamedTuple):
    argv: Tuple[str, ...]
    cwd: str           # the folder to start argv in ("" for ssh: the remote `cd` does it)
    host: str = ""     # "" for this machine
    transfer: str = "raw"   # how images travel: raw on a local pipe (fastest), "png" over a network

    def where(self) -> str:
        """' on HOST' for a remote backend, '' for this machine (appended to descriptions)."""
        return " on %s" % self.host if self.host else ""


class SshSpec(NamedTuple):
    user: str
    host: str
    port: Optional[int]
    path: str
    options: Tuple[str, ...]


def _bad(what: str) -> BadSpec:
    return BadSpec("The krita_nst setting `backend` %s. Write `local` or ssh://[user@]host[:port]/absolute/path "
                   "to the krita-nst folder on that machine, e.g. backend=%s (ssh flags go in `ssh_options`, "
                   "e.g. ssh_options=-i ~/.ssh/gpu_key)." % (what, EXAMPLE))


def parse(spec: str, options: str = "") -> Optional[SshSpec]:
    """None for `local` (or empty); an SshSpec for ssh://...; BadSpec otherwise."""
    spec = (spec or "").strip()
    if spec in ("", LOCAL):
        if options.strip():
            parse_options(options)   # still checked, so a typo shows up before it matters
        return None
    if not spec.startswith("ssh://"):
        raise _bad("is %r, neither `local` nor an ssh:// address" % spec)
    try:
        parts = urlsplit(spec)
        port = parts.port
    except ValueError as exc:
        raise _bad("is %r, which has a bad host or port (%s)" % (spec, exc)) from None
    host, user = parts.hostname or "", unquote(parts.username or "")
    if parts.password is not None:
        raise _bad("has a password in it; use an ssh key instead (see the manual's two-machine section)")
    if not host or host.startswith("-") or not re.fullmatch(r"[A-Za-z0-9._:%-]+", host):
        raise _bad("is %r, which names no usable host" % spec)
    if user.startswith("-") or re.search(r"[\s@]", user):
        raise _bad("is %r, which has a bad user name" % spec)
    if parts.query or parts.fragment:
        raise _bad("is %r; it takes no ?query or #fragment" % spec)
    path = unquote(parts.path)
    if not path.startswith("/") or path.rstrip("/") == "":
        raise _bad("is %r, which lacks the absolute path of the krita-nst folder on %s" % (spec, host))
    if port == 0:
        raise _bad("is %r, which has port 0" % spec)
    return SshSpec(user, host, port, path.rstrip("/"), parse_options(options))


def parse_options(options: str) -> Tuple[str, ...]:
    try:
        words = shlex.split(options or "")
    except ValueError as exc:
        raise BadSpec("The krita_nst setting `ssh_options` cannot be split like a shell line (%s): %r. "
                      "Example: ssh_options=-i /home/me/.ssh/gpu_key -o ConnectTimeout=5" % (exc, options)) from None
    if words and not words[0].startswith("-"):
        raise BadSpec("The krita_nst setting `ssh_options` must hold ssh flags, starting with '-', not %r. "
                      "Example: ssh_options=-i /home/me/.ssh/gpu_key -o ConnectTimeout=5" % options)
    return tuple(words)


def local(python: str, root: str, parent_pid: int = 0) -> Backend:
    argv = [python, "-m", "backend", "serve"]
    if parent_pid:
        argv += ["--parent-pid", str(parent_pid)]
    return Backend(tuple(argv), root)


def remote_command(path: str, check: bool = False) -> str:
    """The remote shell line; check: only import the backend (install.py's connection test)."""
    run = ".venv/bin/python -c 'import backend'" if check else \
        "exec .venv/bin/python -m backend serve --link-timeout %d" % LINK_TIMEOUT
    return "cd %s && %s" % (shlex.quote(path), run)


def ssh(spec: SshSpec, program: str = "ssh", check: bool = False) -> Backend:
    argv: List[str] = [program, *SSH_BASE]
    if spec.port:
        argv += ["-p", str(spec.port)]
    argv += list(spec.options)
    argv += ["%s@%s" % (spec.user, spec.host) if spec.user else spec.host, remote_command(spec.path, check)]
    return Backend(tuple(argv), "", spec.host, "png")


def ssh_failure(host: str, code: int, said: str, spoke: bool) -> str:
    """What to tell the artist when the ssh child ended by itself: said is its stderr (the log's new
    part); code, its exit status (-1: killed); spoke, whether the backend had sent its hello."""
    tail = "\n".join(said.strip().splitlines()[-4:])
    test = "ssh -o BatchMode=yes %s true" % host
    if code == SSH_FAILED and "Permission denied" in said:
        why = ("%s refused the login: no ssh key it accepts. From a terminal on this machine run\n"
               "    ssh-keygen -t ed25519        (if you have no key yet)\n"
               "    ssh-copy-id %s\n"
               "then check that `%s` asks for nothing and returns." % (host, host, test))
    elif code == SSH_FAILED and "Host key verification failed" in said:
        why = ("%s's host key is not known (or changed). Connect once from a terminal (`ssh %s`), check and "
               "accept its key, then stylise again." % (host, host))
    elif code == SSH_FAILED and re.search(r"Could not resolve|Connection refused|timed out|No route|"
                                          r"Network is unreachable|Connection closed", said):
        why = ("could not reach %s. Check the host name and port in the `backend` setting and that the "
               "machine is on and runs an ssh server (test with `%s`)." % (host, test))
    elif code == SSH_FAILED and "not responding" in said:
        why = ("the network to %s went silent for 15 s and ssh gave up; the backend there stops by itself. "
               "Stylise again to reconnect when the network is back." % host)
    elif code < 0:
        why = "the connection to %s was lost (ssh was stopped). Stylise again to reconnect." % host
    elif code == SSH_FAILED:
        why = "the ssh connection to %s failed or dropped. Check that `%s` works, then stylise again." % (host, test)
    elif not spoke:
        why = ("%s has no working krita-nst backend in the folder the `backend` setting names. On %s, in "
               "that folder, run `python3 install.py --no-demo`, then stylise again." % (host, host))
    else:
        why = "the backend on %s stopped unexpectedly (exit code %s). Stylise again to restart it." % (host, code)
    return "The backend on %s is unavailable: %s\nssh said:\n%s" % (host, why, tail or "(nothing)")
