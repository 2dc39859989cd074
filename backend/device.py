"""Where and in what precision the engine runs: chosen here and nowhere else."""

import contextlib
import os
import sys
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    dtype: torch.dtype            # autocast dtype for the VGG; float32 means no autocast
    channels_last: bool

    @property
    def description(self):
        name = self.device.type
        if name == "cuda":
            name = "cuda (%s)" % torch.cuda.get_device_name(self.device)
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


def choose(device="auto", precision="auto"):
    """device: auto, cpu, cuda, cuda:N, mps.  precision: auto, fp32, bf16, fp16.

    The environment variables KRITA_NST_DEVICE and KRITA_NST_PRECISION override "auto".
    """
    if device == "auto":
        device = os.environ.get("KRITA_NST_DEVICE", "auto")
    if precision == "auto":
        precision = os.environ.get("KRITA_NST_PRECISION", "auto")
    if device == "auto":
        if torch.cuda.is_available():
            device = "cuda"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if precision == "auto":
        if dev.type == "cuda":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        elif dev.type == "cpu" and cpu_has_fast_bf16():
            precision = "bf16"
        else:
            precision = "fp32"
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in dtypes:
        raise ValueError("precision must be one of auto, %s; not %r" % (", ".join(dtypes), precision))
    channels_last = dev.type in ("cuda", "cpu")
    return Runtime(dev, dtypes[precision], channels_last)


def _rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 0


def available_bytes(runtime):
    """Memory a job may still use on the runtime's device (None when unknown)."""
    if runtime.device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(runtime.device)
        return free + torch.cuda.memory_reserved(runtime.device) - torch.cuda.memory_allocated(runtime.device)
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
    """The resident high-water mark: VmHWM on Linux, else getrusage's ru_maxrss (the process-lifetime peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        import resource
    except ImportError:  # Windows: no high-water mark without more machinery
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


class MemoryMeter:
    """Peak memory of one job.

    CUDA: the allocator's peak since the job started.  CPU (and MPS): the process's peak resident
    memory, which the kernel tracks between any two samples: on Linux VmHWM, reset at the job's
    start; elsewhere ru_maxrss, the peak of the process's whole life (so it can be an earlier, bigger job's).
    """

    def __init__(self, runtime):
        self.runtime = runtime
        if runtime.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(runtime.device)
        else:
            _reset_high_water_mark()

    def peak_bytes(self):
        if self.runtime.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.runtime.device)
        return max(_high_water_mark_bytes(), _rss_bytes())

    @property
    def peak_mib(self):
        return round(self.peak_bytes() / 2 ** 20, 1)
