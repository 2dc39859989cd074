"""Installing the chosen torch build into the venv, then asking that torch what it is: the log reports
what the venv has, never only what was asked for."""

import json
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional

from .console import Fail, run, say, warn
from .torch_build import TORCH, Build

# Run by the venv's Python: what its torch was built for and what it can reach on this machine.
INSPECT = r"""
import json, platform, sys
import torch
def ask(f):
    try:
        return bool(f())
    except Exception:
        return False
v = torch.__version__
cuda, hip, xpu = torch.version.cuda, getattr(torch.version, "hip", None), getattr(torch.version, "xpu", None)
mps = sys.platform == "darwin" and ask(torch.backends.mps.is_built)
build = v.split("+", 1)[1] if "+" in v else (
    "rocm" + ".".join(hip.split(".")[:2]) if hip else "cu" + "".join(cuda.split(".")[:2]) if cuda
    else "xpu" if xpu else "mps" if mps else "cpu")
got = {"version": v, "build": build, "cuda": ask(lambda: cuda and torch.cuda.is_available()),
       "rocm": ask(lambda: hip and torch.cuda.is_available()), "xpu": ask(lambda: torch.xpu.is_available()),
       "mps": ask(torch.backends.mps.is_available)}
device = "CPU (%s)" % (platform.processor() or platform.machine())
try:
    if got["cuda"] or got["rocm"]:
        device = torch.cuda.get_device_name(0)
    elif got["xpu"]:
        device = torch.xpu.get_device_name(0)
    elif got["mps"]:
        device = "Apple GPU (MPS)"
except Exception as exc:
    device += " (the GPU's name: %s)" % exc
got["device"] = device
print(json.dumps(got))
"""

Torch = Dict[str, Any]


def inspect(python: str) -> Optional[Torch]:
    """What the venv's torch is, or None when it does not import. Its warnings (e.g. a driver too old for
    the build) come along as "stderr"."""
    try:
        done = subprocess.run([python, "-c", INSPECT], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        got: Torch = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    got["stderr"] = done.stderr.strip()
    return got


def reachable(index: str, timeout: float = 15) -> bool:
    """Whether the index's server answers at all (any HTTP status counts: pip will say what is wrong).
    A certificate this Python does not trust counts too: pip may have its own (PIP_CERT)."""
    if not index.startswith(("http://", "https://")):
        return True
    try:
        urllib.request.urlopen(urllib.request.Request(index.rstrip("/") + "/torch/", method="HEAD"),
                               timeout=timeout).close()
        return True
    except urllib.error.HTTPError:
        return True
    except urllib.error.URLError as exc:
        return isinstance(exc.reason, ssl.SSLCertVerificationError)
    except (OSError, socket.timeout, ValueError):
        return False


def pip(python: str, args: List[str]) -> None:
    run([python, "-m", "pip"] + args[:1] + ["--disable-pip-version-check", "-q"] + args[1:])


def ensure(python: str, build: Build, spec: Optional[str] = None, index: Optional[str] = None,
           ask: Callable[[str], Optional[Torch]] = inspect, run_pip: Callable[[str, List[str]], None] = pip,
           can_reach: Callable[[str], bool] = reachable) -> Torch:
    """The venv's torch as `build` wants it: kept when it already is that build, else (re)installed from
    the build's index (or --torch-index), falling back to the default index when that cannot be reached."""
    have = ask(python)
    if have is not None and spec is None and have["build"] == build.name:
        say("torch %s (%s build) is already in the venv" % (have["version"], build.name))
        return have
    where = index or build.url
    if where is not None and not can_reach(where):
        gives = "" if build.pypi in (None, build.name) else (
            " PyPI's torch for this platform is the %s build%s, not %s; the last line below says which came."
            % (build.pypi, " (several GB of CUDA libraries)" if build.pypi.startswith("cu") else "", build.name))
        warn("cannot reach %s: installing torch from the default package index instead.%s To get the %s build, "
             "run install.py again where that index answers, or give a mirror of it with --torch-index URL."
             % (where, gives, build.name))
        where = None
        if have is not None and spec is None:
            warn("keeping the torch already in the venv (%s, %s build) rather than fetching the default index's "
                 "again" % (have["version"], have["build"]))
            return have
    if have is not None:
        # pip takes an installed 2.13.0+cpu as satisfying ==2.13.0 and would keep it: take it out first.
        say("the venv has torch %s (%s build); replacing it with the %s build" % (have["version"], have["build"],
                                                                                   build.name))
        run_pip(python, ["uninstall", "-y", "torch"])
    say("installing %s, %s build (%s), from %s" % (spec or TORCH, build.name, build.why,
                                                   where or "the default package index"))
    try:
        run_pip(python, ["install", spec or TORCH] + (["--index-url", where] if where else []))
    except subprocess.CalledProcessError:
        raise Fail("pip could not install %s from %s (its message is above). Choose another build with --torch "
                   "(cpu, cu126, rocm6.3, ...) or another index with --torch-index URL."
                   % (spec or TORCH, where or "the default package index")) from None
    got = ask(python)
    if got is None:
        raise Fail("torch was installed but `import torch` fails in %s; run it there to see why" % python)
    return got


def report(got: Torch, build: Build) -> List[str]:
    """Says what the venv's torch is; returns the warnings (also said)."""
    can = [name for name, key in (("CUDA", "cuda"), ("ROCm", "rocm"), ("XPU", "xpu"), ("MPS", "mps")) if got[key]]
    say("the venv's torch: %s, %s build; GPU: %s; device: %s"
        % (got["version"], got["build"], ", ".join(can) + " available" if can else "none usable", got["device"]))
    problems = []
    if got["build"] != build.name:
        problems.append("the %s build was chosen (%s) but the venv's torch is the %s build"
                        % (build.name, build.why, got["build"]))
    elif build.name != "cpu" and not can:
        tail = got.get("stderr", "").splitlines()[-1:] or ["torch said nothing"]
        problems.append("torch's %s build is installed but sees no GPU (%s): the backend will run on the CPU"
                        % (build.name, tail[0]))
    for problem in problems:
        warn(problem)
    return problems
