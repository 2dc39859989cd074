"""Which torch build this machine gets, and from where: a pure function of gpus.Machine.

Why pip and not uv: pip is in every venv already (nothing to fetch before the venv exists), it honours
the artist's pip configuration (a company mirror, a proxy, find-links), and the selection below is
ours, unit-tested per platform and GPU; uv's --torch-backend does much the same but is a preview
feature, ignores pip.conf, and needs PyTorch's index just the same."""

import re
from typing import List, NamedTuple, Optional, Tuple

from .console import Fail
from .gpus import Machine, Nvidia

TORCH = "torch==2.13.0"
INDEX = "https://download.pytorch.org/whl/"

# torch 2.13's CUDA builds, newest first: (build, least driver on Linux, on Windows, compute capabilities).
# The drivers are each CUDA release's own minimum (NVIDIA's CUDA release notes, table 3); cu128 and newer
# dropped Maxwell and Pascal, CUDA 13 Volta too (PyTorch 2.8 and 2.9 release notes).
CUDA: List[Tuple[str, Tuple[int, ...], Tuple[int, ...], Tuple[int, int], Tuple[int, int]]] = [
    ("cu130", (580, 65, 6), (580, 88), (7, 5), (12, 1)),
    ("cu128", (570, 26), (570, 65), (7, 0), (12, 1)),
    ("cu126", (560, 28, 3), (560, 76), (5, 0), (9, 0)),
]
# CUDA 12's minor-version compatibility: a 12.x build runs on any 12.0 driver, without PTX JIT.
CUDA12_FLOOR = {"linux": (525, 60, 13), "win32": (528, 33)}
ROCM = "rocm6.4"
# The gfx targets torch's ROCm wheels are compiled for (others, e.g. APUs, fail at the first kernel).
ROCM_TARGETS = {"gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx950", "gfx1030", "gfx1100", "gfx1101",
                "gfx1102", "gfx1151", "gfx1200", "gfx1201"}
INTEL_XPU = re.compile(r"\bArc\b|Data Center GPU (Max|Flex)")
# What PyPI's torch 2.13.0 wheel is on each platform (read from its metadata: the Linux x86-64 wheel
# needs cuda-toolkit 13.0); everything else comes from PyPI's-wheel-is-not-it: PyTorch's own index.
PYPI = {("linux", "x86_64"): "cu130", ("linux", "aarch64"): "cpu", ("win32", "x86_64"): "cpu",
        ("darwin", "arm64"): "mps"}
NAMES = re.compile(r"^(auto|cpu|cuda|rocm|xpu|mps|cu1\d\d|rocm\d+\.\d+)$")


class Build(NamedTuple):
    name: str                  # cu130, cu126, rocm6.4, xpu, cpu, mps
    url: Optional[str]         # the index; None: the default index (PyPI), whose wheel here is this build
    why: str                   # what it was chosen for, said before installing
    notes: List[str]           # what the artist should know (an old driver, an unsupported GPU)
    pypi: Optional[str]        # what the default index gives on this platform (for the fallback's warning)


def system_key(system: str) -> str:
    return "linux" if system.startswith("linux") else system


def cuda_for(gpu: Nvidia, system: str) -> Tuple[Optional[str], List[str]]:
    """The newest CUDA build this GPU and driver run, or None with why not."""
    driver, cap = gpu.driver, gpu.capability
    shown = ".".join(str(p) for p in driver)
    if cap is not None and cap < (5, 0):
        return None, ["%s (compute capability %d.%d) is older than any torch 2.13 CUDA build supports (5.0 and up)"
                      % (gpu.name, cap[0], cap[1])]
    win = system == "win32"
    by_driver = [b for b in CUDA if driver >= (b[2] if win else b[1])]
    fits = [b for b in by_driver if cap is None or b[3] <= cap <= b[4]]
    if fits:
        return fits[0][0], []
    if by_driver and cap is not None and cap > max(b[4] for b in CUDA):
        return by_driver[0][0], ["%s is newer than the builds this installer knows: trying %s"
                                 % (gpu.name, by_driver[0][0])]
    old = CUDA[-1]
    if cap is None or old[3] <= cap <= old[4]:
        if driver >= CUDA12_FLOOR["win32" if win else "linux"]:
            return old[0], ["NVIDIA driver %s is older than %s's own (%s): it runs through CUDA 12's minor-version "
                            "compatibility; update the driver for the newest build" % (
                                shown, old[0], ".".join(str(p) for p in (old[2] if win else old[1])))]
    need = [b for b in CUDA if cap is None or b[3] <= cap <= b[4]]
    least = ".".join(str(p) for p in (need[-1][2] if win else need[-1][1])) if need else "?"
    return None, ["NVIDIA driver %s is too old for torch 2.13's CUDA builds on %s: update it to %s or newer "
                  "(https://www.nvidia.com/drivers) and run install.py again"
                  % (shown, gpu.name, least)]


def auto(m: Machine) -> Tuple[str, str, List[str]]:
    notes: List[str] = []
    if m.nvidia:
        name, notes = cuda_for(m.nvidia[0], m.system)
        if name:
            gpu = m.nvidia[0]
            return name, "%s, driver %s" % (gpu.name, ".".join(str(p) for p in gpu.driver)), notes
        notes = [notes[0] + ": using the CPU build"]
    linux = system_key(m.system) == "linux"
    if linux and m.amd:
        usable = [g for g in m.amd if g in ROCM_TARGETS]
        if usable:
            return ROCM, "AMD GPU %s (rocminfo)" % usable[0], notes
        notes.append("rocminfo lists %s, which torch's ROCm build is not compiled for: using the CPU build "
                     "(--torch rocm tries it anyway)" % ", ".join(m.amd))
    intel = [n for n in m.others if INTEL_XPU.search(n)]
    if intel:
        return "xpu", "Intel GPU %s" % intel[0], notes
    for name in m.others:
        if re.search(r"\bAMD\b|\bATI\b|Radeon", name) and not m.amd:
            notes.append("%s: PyTorch has no ROCm build for Windows; using the CPU build" % name if not linux else
                         "%s but no rocminfo: install ROCm (https://rocm.docs.amd.com) for the GPU build, or try "
                         "--torch rocm; using the CPU build" % name)
        elif "NVIDIA" in name and not m.nvidia:
            notes.append("%s but no nvidia-smi: install NVIDIA's driver for the CUDA build; using the CPU build"
                         % name)
    return "cpu", "no GPU torch can use found", notes


def mac(m: Machine, want: str) -> Build:
    if m.arch != "arm64":
        if m.rosetta:
            raise Fail("this Python is an Intel (x86-64) one running under Rosetta: torch 2.13 has only Apple "
                       "Silicon wheels for macOS. Install an arm64 Python (python.org's installer, or Homebrew "
                       "in /opt/homebrew: `brew install python@3.12`) and run install.py with it.")
        raise Fail("torch 2.13 has no wheel for Intel Macs (PyTorch's last one was 2.2). Run the backend on "
                   "another machine instead: install.py --remote ssh://me@gpu-box/path (README: Two machines).")
    if m.macos and m.macos < (14,):
        raise Fail("torch 2.13 needs macOS 14 (Sonoma) or newer; this Mac runs %s. Update macOS, or run the "
                   "backend on another machine (install.py --remote)." % ".".join(str(p) for p in m.macos))
    if want not in ("auto", "mps", "cpu"):
        raise Fail("--torch %s: on a Mac torch has one build, PyPI's, with MPS (the GPU) and the CPU" % want)
    return Build("mps", None, "Apple Silicon: PyPI's wheel, with MPS", [], "mps")


def select(m: Machine, want: str = "auto") -> Build:
    if not NAMES.match(want):
        raise Fail("--torch %s: give auto, cpu, cuda, rocm, xpu, mps, or an index's build such as cu126 or rocm6.4"
                   % want)
    if m.system == "darwin":
        return mac(m, want)
    key = system_key(m.system)
    pypi = PYPI.get((key, m.arch))
    if pypi is None:
        raise Fail("torch 2.13 has no wheel for %s on %s; on Windows on Arm install the x64 Python from python.org "
                   "(it runs emulated), or run the backend elsewhere (install.py --remote)" % (m.system, m.arch))
    notes: List[str] = []
    if want == "auto":
        name, why, notes = auto(m)
    elif want == "cuda":
        found, notes = cuda_for(m.nvidia[0], m.system) if m.nvidia else (CUDA[0][0], [])
        if found is None:
            raise Fail("--torch cuda: " + notes[0])
        name = found
        why = "--torch cuda" + ("" if m.nvidia else " (no nvidia-smi here: the newest build)")
    elif want.startswith("rocm") and key == "win32":
        raise Fail("--torch %s: PyTorch has no ROCm build for Windows" % want)
    elif want == "mps":
        raise Fail("--torch mps: MPS is Apple Silicon's GPU, only on macOS")
    else:
        name, why = (ROCM if want == "rocm" else want), "--torch " + want
    return Build(name, None if pypi == name else INDEX + name, why, notes, pypi)
