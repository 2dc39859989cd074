"""What this machine has, asked of the tools its GPU drivers install (nvidia-smi, rocminfo) and of the OS.

Each probe returns plain data and never raises: a missing tool means "not found". torch_build decides."""

import os
import platform
import re
import shutil
import subprocess
import sys
from typing import List, NamedTuple, Optional, Sequence, Tuple


class Nvidia(NamedTuple):
    name: str
    driver: Tuple[int, ...]                       # 580.65.06 -> (580, 65, 6)
    capability: Optional[Tuple[int, int]]         # None: a driver too old to report it


class Machine(NamedTuple):
    system: str                                   # sys.platform: linux, win32, darwin
    arch: str                                     # x86_64, arm64, aarch64 (AMD64 reads x86_64)
    nvidia: List[Nvidia]
    amd: Optional[List[str]]                      # rocminfo's gfx targets; None: no rocminfo
    others: List[str]                             # other display adapters' names (Intel, AMD without ROCm)
    rosetta: bool = False                         # an x86-64 Python on an Apple Silicon Mac
    macos: Tuple[int, ...] = ()


def output(cmd: Sequence[str], timeout: float = 20) -> Optional[str]:
    """A tool's stdout, None when it is missing, fails or hangs (a wedged driver makes nvidia-smi hang)."""
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def version_tuple(text: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def nvidia_smi() -> List[Nvidia]:
    tool = shutil.which("nvidia-smi")
    if tool is None and sys.platform == "win32":   # drivers before 2020 put it here, off PATH
        old = os.path.join(os.environ.get("ProgramFiles", r"C:\Program Files"), "NVIDIA Corporation", "NVSMI",
                           "nvidia-smi.exe")
        tool = old if os.path.exists(old) else None
    if tool is None:
        return []
    text = output([tool, "--query-gpu=name,driver_version,compute_cap", "--format=csv,noheader"])
    if text is None:   # drivers before ~510 know no compute_cap field
        text = output([tool, "--query-gpu=name,driver_version", "--format=csv,noheader"])
    return parse_nvidia_smi(text or "")


def parse_nvidia_smi(text: str) -> List[Nvidia]:
    gpus = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 2 or not re.match(r"^\d+\.\d+", fields[1]):
            continue
        cap = re.match(r"^(\d+)\.(\d+)$", fields[2]) if len(fields) > 2 else None
        gpus.append(Nvidia(fields[0], version_tuple(fields[1]),
                           (int(cap.group(1)), int(cap.group(2))) if cap else None))
    return gpus


def rocminfo() -> Optional[List[str]]:
    tool = shutil.which("rocminfo") or ("/opt/rocm/bin/rocminfo" if os.path.exists("/opt/rocm/bin/rocminfo") else None)
    text = output([tool]) if tool else None
    return None if text is None else parse_rocminfo(text)


def parse_rocminfo(text: str) -> List[str]:
    """The GPU agents' gfx targets, in order, once each (the CPU agents have no gfx name)."""
    found: List[str] = []
    for name in re.findall(r"^\s*Name:\s+(gfx[0-9a-f]+)\s*$", text, re.MULTILINE):
        if name not in found:
            found.append(name)
    return found


def display_adapters(system: str) -> List[str]:
    """Display adapters' names: on Windows from WMI, on Linux from lspci (where installed)."""
    if system == "win32":
        text = output(["powershell", "-NoProfile", "-Command",
                       "(Get-CimInstance Win32_VideoController).Name"], timeout=30)
        return [line.strip() for line in (text or "").splitlines() if line.strip()]
    if system.startswith("linux"):
        text = output(["lspci"]) or ""
        return [line.split(": ", 1)[1].strip() for line in text.splitlines()
                if re.search(r"VGA compatible controller|Display controller|3D controller", line) and ": " in line]
    return []


def rosetta() -> bool:
    return (output(["sysctl", "-n", "sysctl.proc_translated"]) or "").strip() == "1"


def probe() -> Machine:
    arch = platform.machine().lower()
    arch = {"amd64": "x86_64", "x64": "x86_64"}.get(arch, arch)
    if sys.platform == "darwin":
        return Machine(sys.platform, arch, [], None, [], rosetta() if arch == "x86_64" else False,
                       version_tuple(platform.mac_ver()[0]))
    return Machine(sys.platform, arch, nvidia_smi(), rocminfo() if sys.platform.startswith("linux") else None,
                   display_adapters(sys.platform))
