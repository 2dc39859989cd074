"""Where and in what precision the engine runs, and what of the machine it may use: chosen here and nowhere else.

The Windows and macOS paths (ctypes calls, torch.mps, torch.xpu) are unit-tested with the system faked
(tests/test_device.py); the type check runs for win32 and darwin too.
"""

import contextlib
import ctypes
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Optional, Tuple

import torch


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    dtype: torch.dtype            # autocast dtype for the VGG; float32 means no autocast
    channels_last: bool
    why: str = field(default="", compare=False)   # why this precision, for the log

    @property
    def description(self):
        name = self.device.type
        if name in ("cuda", "xpu"):
            name = "%s (%s)" % (name, getattr(torch, name).get_device_name(self.device))
        precision = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]
        return "%s, %s%s" % (name, precision, ", channels_last" if self.channels_last else "")

    def autocast(self):
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def prepare(self, tensor):
        """Put an image batch on the device in the memory layout the convolutions like."""
        tensor = tensor.to(self.device)
        return tensor.contiguous(memory_format=torch.channels_last) if self.channels_last else tensor


def cpu_has_fast_bf16():
    """AMX or AVX-512 BF16: where bf16 convolutions beat fp32 on the CPU."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


# CUDA cards by compute capability, newest first: the first row at or below the card's (and whose name part, if
# any, is in the card's name) gives the autocast precision, and why.  bf16 only where the tensor cores run it:
# torch.cuda.is_bf16_supported() is also true on older cards, which then emulate it, slowly.
CUDA_PRECISIONS: Tuple[Tuple[Tuple[int, int], str, str, str], ...] = (
    ((8, 0), "", "bf16", "bf16 runs natively (Ampere and newer)"),
    ((7, 5), "GTX 16", "fp32", "fp16 is known to give NaNs (black images) on GTX 16xx cards, which lack tensor cores"),
    ((7, 0), "", "fp16", "fp16 tensor cores; bf16 would be emulated"),
    ((6, 2), "", "fp16", "full-rate fp16 (Jetson TX2)"),
    ((6, 1), "", "fp32", "fp16 runs at 1/64 of fp32's rate on GTX 10xx (consumer Pascal)"),
    ((6, 0), "", "fp16", "full-rate fp16 (P100)"),
    ((5, 3), "", "fp16", "full-rate fp16 (Jetson Nano)"),
    ((0, 0), "", "fp32", "no fast fp16 before Pascal"),
)


def cuda_precision(dev):
    """(precision, why) for a CUDA (or ROCm) device."""
    if getattr(torch.version, "hip", None):   # ROCm: the "capability" is a gfx version, not CUDA's
        return "fp16", "ROCm: fp16 runs at full rate or better on AMD GPUs"
    major, minor = torch.cuda.get_device_capability(dev)
    name = torch.cuda.get_device_name(dev)
    for since, part, precision, why in CUDA_PRECISIONS:
        if (major, minor) >= since and part in name:
            return precision, "%s (compute capability %d.%d)" % (why, major, minor)
    raise AssertionError("CUDA_PRECISIONS ends with (0, 0)")


def _xpu_available():
    return hasattr(torch, "xpu") and torch.xpu.is_available()


def choose(device="auto", precision="auto"):
    """device: auto, cpu, cuda, cuda:N, xpu, mps.  precision: auto, fp32, bf16, fp16.

    The environment variables KRITA_NST_DEVICE and KRITA_NST_PRECISION override "auto".
    """
    if device == "auto":
        device = os.environ.get("KRITA_NST_DEVICE", "auto")
    if precision == "auto":
        precision = os.environ.get("KRITA_NST_PRECISION", "auto")
    if device == "auto":
        if torch.cuda.is_available():
            device = "cuda"
        elif _xpu_available():
            device = "xpu"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    dev = torch.device(device)
    why = "asked for"
    if dev.type == "cuda":
        # Off: with benchmark on, cuDNN times every algorithm for each new input shape, and live mode's sizes
        # change with the painted area (and each job has its own pyramid of scales), so the tuning recurs as a
        # hitch that a short warm run never earns back; the heuristics' choice for VGG's 3x3 convs is close.
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if precision == "auto":
        if dev.type == "cuda":
            precision, why = cuda_precision(dev)
        elif dev.type == "xpu":
            precision, why = ("bf16", "bf16 runs natively") if torch.xpu.is_bf16_supported() else ("fp16", "no bf16")
        elif dev.type == "cpu" and cpu_has_fast_bf16():
            precision, why = "bf16", "the CPU has AMX or AVX-512 BF16"
        else:
            precision, why = "fp32", "no faster precision known for %s" % dev.type
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in dtypes:
        raise ValueError("precision must be one of auto, %s; not %r" % (", ".join(dtypes), precision))
    channels_last = dev.type in ("cuda", "cpu", "xpu")
    return Runtime(dev, dtypes[precision], channels_last, why)


def out_of_memory(exc):
    """Whether an exception says the device ran out of memory (MPS says so in a plain RuntimeError)."""
    return isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc))


class MEMORYSTATUSEX(ctypes.Structure):   # Windows' sysinfoapi.h
    _fields_ = [("dwLength", ctypes.c_uint32), ("dwMemoryLoad", ctypes.c_uint32)] + [(n, ctypes.c_uint64) for n in (
        "ullTotalPhys", "ullAvailPhys", "ullTotalPageFile", "ullAvailPageFile", "ullTotalVirtual", "ullAvailVirtual",
        "ullAvailExtendedVirtual")]


class PROCESS_MEMORY_COUNTERS(ctypes.Structure):   # Windows' psapi.h
    _fields_ = [("cb", ctypes.c_uint32), ("PageFaultCount", ctypes.c_uint32)] + [(n, ctypes.c_size_t) for n in (
        "PeakWorkingSetSize", "WorkingSetSize", "QuotaPeakPagedPoolUsage", "QuotaPagedPoolUsage",
        "QuotaPeakNonPagedPoolUsage", "QuotaNonPagedPoolUsage", "PagefileUsage", "PeakPagefileUsage")]


def windll(name: str) -> Any:
    """A Windows DLL (kernel32, psapi); the tests fake this."""
    if sys.platform != "win32":
        raise OSError("%s is a Windows DLL" % name)
    return ctypes.WinDLL(name, use_last_error=True)


def last_windows_error() -> int:
    """The calling thread's last Windows error as ctypes saved it (use_last_error); the tests fake this."""
    if sys.platform == "win32":
        return ctypes.get_last_error()
    return 0


def _windows_memory() -> Optional[PROCESS_MEMORY_COUNTERS]:
    """This process's memory counters (working set and its peak), None when Windows will not say."""
    try:
        kernel32, psapi = windll("kernel32"), windll("psapi")
    except OSError:
        return None
    kernel32.GetCurrentProcess.restype = ctypes.c_void_p
    psapi.GetProcessMemoryInfo.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32]
    counters = PROCESS_MEMORY_COUNTERS()
    counters.cb = ctypes.sizeof(counters)
    if not psapi.GetProcessMemoryInfo(kernel32.GetCurrentProcess(), ctypes.byref(counters), counters.cb):
        return None
    return counters


def _rss_bytes():
    if sys.platform == "win32":
        counters = _windows_memory()
        return counters.WorkingSetSize if counters else 0
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 0


def _accelerator(runtime):
    """torch.cuda or torch.xpu for a device with a caching allocator of that API; None otherwise."""
    return getattr(torch, runtime.device.type) if runtime.device.type in ("cuda", "xpu") else None


def available_bytes(runtime):
    """Memory a job may still use on the runtime's device (None when unknown)."""
    api = _accelerator(runtime)
    if api is not None:
        free, _ = api.mem_get_info(runtime.device)
        return free + api.memory_reserved(runtime.device) - api.memory_allocated(runtime.device)
    if runtime.device.type == "mps":   # what Metal recommends for this process, less what it holds already
        return max(0, torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory())
    if sys.platform == "win32":
        try:
            status = MEMORYSTATUSEX()
            status.dwLength = ctypes.sizeof(status)
            if windll("kernel32").GlobalMemoryStatusEx(ctypes.byref(status)):
                return status.ullAvailPhys
        except OSError:
            pass
        return None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_high_water_mark():
    """Linux: make VmHWM (the resident high-water mark) start again from now; False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _high_water_mark_bytes():
    """The resident high-water mark: VmHWM on Linux; elsewhere the process-lifetime peak (Windows:
    PeakWorkingSetSize; macOS and other POSIX: getrusage's ru_maxrss)."""
    if sys.platform == "win32":
        counters = _windows_memory()
        return counters.PeakWorkingSetSize if counters else 0
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


class MemoryMeter:
    """Peak memory of one job.

    CUDA and XPU: the allocator's peak since the job started.  CPU (and MPS): the process's peak resident
    memory, which the kernel tracks between any two samples: on Linux VmHWM, reset at the job's start;
    elsewhere the peak of the process's whole life (so it can be an earlier, bigger job's).
    """

    def __init__(self, runtime):
        self.runtime = runtime
        api = _accelerator(runtime)
        if api is not None:
            api.reset_peak_memory_stats(runtime.device)
        else:
            _reset_high_water_mark()

    def peak_bytes(self):
        api = _accelerator(self.runtime)
        if api is not None:
            return api.max_memory_allocated(self.runtime.device)
        return max(_high_water_mark_bytes(), _rss_bytes())

    @property
    def peak_mib(self):
        return round(self.peak_bytes() / 2 ** 20, 1)
