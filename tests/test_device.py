"""Where and in what precision the engine runs, and the memory a job used: measured for real on this machine
(Linux, CPU); CUDA cards, XPU, MPS and Windows with the system faked (torch's calls, ctypes, sys.platform).
Also what of the machine the backend takes beside Krita (backend/server.py: priority, CPU threads)."""

import ctypes
import logging

import pytest
import torch

from backend import device, server

MIB = 2 ** 20


def test_a_cpu_runtime_in_each_precision():
    fp32, bf16 = device.choose("cpu", "fp32"), device.choose("cpu", "bf16")
    assert fp32.description == "cpu, fp32, channels_last" and bf16.dtype == torch.bfloat16
    x = torch.rand(1, 3, 16, 16)
    conv = torch.nn.Conv2d(3, 4, 3)
    prepared = fp32.prepare(x)
    assert prepared.is_contiguous(memory_format=torch.channels_last) and torch.equal(prepared, x)
    with fp32.autocast():
        assert conv(prepared).dtype == torch.float32
    with bf16.autocast():
        assert conv(bf16.prepare(x)).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="precision"):
        device.choose("cpu", "fp8")


def test_the_environment_chooses_when_asked_for_auto(monkeypatch):
    monkeypatch.setenv("KRITA_NST_DEVICE", "cpu")
    monkeypatch.setenv("KRITA_NST_PRECISION", "fp32")
    runtime = device.choose()
    assert runtime.device.type == "cpu" and runtime.dtype == torch.float32
    assert device.choose("cpu", "bf16").dtype == torch.bfloat16   # what is asked for wins over the environment


def test_the_meter_sees_a_job_peak_and_starts_again_with_the_next_job():
    runtime = device.choose("cpu", "fp32")
    free = device.available_bytes(runtime)
    assert free is not None and free > 300 * 2 ** 20
    first = device.MemoryMeter(runtime)
    big = torch.ones(300 * 2 ** 20 // 4)   # 300 MiB, touched
    del big
    peak = first.peak_mib
    second = device.MemoryMeter(runtime)
    assert peak - second.peak_mib > 250, (peak, second.peak_mib)


CARDS = [  # (capability, name, precision): one of each row of device.CUDA_PRECISIONS
    ((9, 0), "NVIDIA H100 80GB HBM3", "bf16"),
    ((8, 6), "NVIDIA GeForce RTX 3060", "bf16"),
    ((7, 5), "NVIDIA GeForce RTX 2080 Ti", "fp16"),
    ((7, 5), "NVIDIA GeForce GTX 1660 SUPER", "fp32"),
    ((7, 0), "Tesla V100-SXM2-16GB", "fp16"),
    ((6, 2), "NVIDIA Tegra X2", "fp16"),
    ((6, 1), "NVIDIA GeForce GTX 1080", "fp32"),
    ((6, 0), "Tesla P100-PCIE-16GB", "fp16"),
    ((5, 3), "NVIDIA Tegra X1", "fp16"),
    ((5, 2), "NVIDIA GeForce GTX 970", "fp32"),
]


@pytest.fixture
def a_cuda_card(monkeypatch):
    """torch.cuda answering as a card of the given capability and name; is_bf16_supported must not be asked."""
    def install(capability, name):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda dev=None: capability)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda dev=None: name)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: pytest.fail("true through emulation"))
        monkeypatch.setattr(torch.version, "hip", None)
    monkeypatch.delenv("KRITA_NST_DEVICE", raising=False)
    monkeypatch.delenv("KRITA_NST_PRECISION", raising=False)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    return install


@pytest.mark.parametrize("capability, name, precision", CARDS, ids=[c[1] for c in CARDS])
def test_each_cuda_card_gets_the_precision_it_runs_natively(a_cuda_card, capability, name, precision):
    a_cuda_card(capability, name)
    runtime = device.choose("cuda")
    assert runtime.dtype == {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
    assert "compute capability %d.%d" % capability in runtime.why and runtime.channels_last
    assert runtime.description == "cuda (%s), %s, channels_last" % (name, precision)
    assert torch.backends.cudnn.benchmark is False   # no re-tuning for each of live mode's sizes
    assert device.choose("cuda", "fp32").dtype == torch.float32   # what is asked for wins


def test_rocm_gets_fp16_whatever_its_gfx_number_says(a_cuda_card, monkeypatch):
    a_cuda_card((9, 0), "AMD Instinct MI250X")
    monkeypatch.setattr(torch.version, "hip", "6.2")
    runtime = device.choose("cuda")
    assert runtime.dtype == torch.float16 and "ROCm" in runtime.why


@pytest.mark.parametrize("bf16, dtype", [(True, torch.bfloat16), (False, torch.float16)])
def test_an_intel_gpu_is_found_after_cuda_and_measured_by_its_allocator(monkeypatch, bf16, dtype):
    monkeypatch.delenv("KRITA_NST_DEVICE", raising=False)
    monkeypatch.delenv("KRITA_NST_PRECISION", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    xpu = torch.xpu
    calls = []
    for name, answer in {"is_available": True, "is_bf16_supported": bf16, "get_device_name": "Intel(R) Arc(TM) A770",
                         "mem_get_info": (6 * MIB, 16 * MIB), "memory_reserved": 3 * MIB, "memory_allocated": 1 * MIB,
                         "reset_peak_memory_stats": None, "max_memory_allocated": 5 * MIB}.items():
        monkeypatch.setattr(xpu, name, lambda *a, name=name, answer=answer: calls.append(name) or answer)
    runtime = device.choose()
    assert runtime.device.type == "xpu" and runtime.dtype == dtype and runtime.channels_last
    assert runtime.description.startswith("xpu (Intel(R) Arc(TM) A770), ")
    assert device.available_bytes(runtime) == 8 * MIB   # free, plus what torch holds but does not use
    meter = device.MemoryMeter(runtime)
    assert "reset_peak_memory_stats" in calls and meter.peak_mib == 5.0


def test_mps_memory_is_what_metal_recommends_less_what_it_holds(monkeypatch):
    monkeypatch.setattr(torch.mps, "recommended_max_memory", lambda: 12 * 2 ** 30)
    monkeypatch.setattr(torch.mps, "driver_allocated_memory", lambda: 2 * 2 ** 30)
    runtime = device.Runtime(torch.device("mps"), torch.float32, False)
    assert device.available_bytes(runtime) == 10 * 2 ** 30
    monkeypatch.setattr(torch.mps, "driver_allocated_memory", lambda: 13 * 2 ** 30)
    assert device.available_bytes(runtime) == 0


def test_out_of_memory_is_recognised_on_every_device():
    assert device.out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert device.out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 17.01 GB, other "
                                             "allocations: 1.20 GB, max allowed: 18.13 GB)"))
    assert device.out_of_memory(MemoryError())
    assert not device.out_of_memory(RuntimeError("shapes cannot be multiplied"))
    assert not device.out_of_memory(ValueError("out of memory"))   # a person's mistake, said in those words


class FakeDll:
    """A Windows DLL: each function answers from `answers` (a value, or a callable given the arguments)."""

    def __init__(self, **answers):
        self.answers, self.calls = answers, []

    def __getattr__(self, name):
        if name not in self.answers:
            raise AttributeError(name)

        def call(*args):
            self.calls.append((name,) + args)
            answer = self.answers[name]
            return answer(*args) if callable(answer) else answer
        setattr(self, name, call)
        return call


def _fill(**values):
    """An answer that writes `values` into the structure passed by reference, then returns TRUE."""
    def answer(*args):
        struct = next(a._obj for a in args if hasattr(a, "_obj"))
        for name, value in values.items():
            setattr(struct, name, value)
        return 1
    return answer


@pytest.fixture
def windows(monkeypatch):
    def install(**dlls):
        monkeypatch.setattr(device.sys, "platform", "win32")
        monkeypatch.setattr(device, "windll", lambda name: dlls[name])
        monkeypatch.setattr(device, "last_windows_error", lambda: 5)
    return install


@pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8, reason="the sizes below are for 64-bit")
def test_the_windows_structures_match_their_x64_layout():
    assert ctypes.sizeof(device.MEMORYSTATUSEX) == 64 and device.MEMORYSTATUSEX.ullAvailPhys.offset == 16
    counters = device.PROCESS_MEMORY_COUNTERS
    assert ctypes.sizeof(counters) == 72
    assert counters.PeakWorkingSetSize.offset == 8 and counters.WorkingSetSize.offset == 16


def test_windows_budgets_the_cpu_by_the_physical_memory_available(windows):
    kernel32 = FakeDll(GlobalMemoryStatusEx=_fill(ullAvailPhys=3 * 2 ** 30, ullTotalPhys=16 * 2 ** 30))
    windows(kernel32=kernel32)
    cpu = device.choose("cpu", "fp32")
    assert device.available_bytes(cpu) == 3 * 2 ** 30
    status = kernel32.calls[0][1]._obj
    assert status.dwLength == ctypes.sizeof(device.MEMORYSTATUSEX)   # Windows refuses any other length
    windows(kernel32=FakeDll(GlobalMemoryStatusEx=0))
    assert device.available_bytes(cpu) is None   # the call failed: unknown, so no cap


def test_windows_peak_memory_is_the_peak_working_set(windows):
    psapi = FakeDll(GetProcessMemoryInfo=_fill(PeakWorkingSetSize=900 * MIB, WorkingSetSize=400 * MIB))
    windows(kernel32=FakeDll(GetCurrentProcess=-1), psapi=psapi)
    meter = device.MemoryMeter(device.choose("cpu", "fp32"))
    assert meter.peak_mib == 900.0
    handle, counters, size = psapi.calls[-1][1:]
    assert handle == -1 and size == counters._obj.cb == ctypes.sizeof(device.PROCESS_MEMORY_COUNTERS)
    windows(kernel32=FakeDll(GetCurrentProcess=-1), psapi=FakeDll(GetProcessMemoryInfo=0))
    assert meter.peak_bytes() == 0   # unknown, not an error


@pytest.mark.parametrize("current, expected", [(0x20, 0x4000), (0x4000, None), (0x40, None)])
def test_windows_puts_the_backend_below_normal_priority_unless_it_is_lower(windows, current, expected):
    kernel32 = FakeDll(GetCurrentProcess=-1, GetPriorityClass=current, SetPriorityClass=1)
    windows(kernel32=kernel32)
    server._lower_priority()
    assert [c[2] for c in kernel32.calls if c[0] == "SetPriorityClass"] == ([expected] if expected else [])


def test_a_refused_priority_is_a_warning_not_a_failure(windows, caplog):
    windows(kernel32=FakeDll(GetCurrentProcess=-1, GetPriorityClass=0x20, SetPriorityClass=0))
    with caplog.at_level(logging.WARNING, "krita_nst.backend"):
        server._lower_priority()
    assert "cannot lower the backend's priority: SetPriorityClass failed (Windows error 5)" in caplog.text


def test_torch_leaves_a_core_for_krita_unless_the_person_chose(monkeypatch, caplog):
    before = torch.get_num_threads()
    try:
        expected = before - 1 if before >= server.LEAVE_FROM else before
        assert server._leave_a_core({}) == expected == torch.get_num_threads()   # for real
        counts = {"n": 8}
        monkeypatch.setattr(torch, "get_num_threads", lambda: counts["n"])
        monkeypatch.setattr(torch, "set_num_threads", lambda n: counts.update(n=n))
        assert server._leave_a_core({}) == 7
        counts["n"] = 2
        assert server._leave_a_core({}) == 2   # two cores: both, at a lower priority (one would halve the run)
        counts["n"] = 4
        assert server._leave_a_core({}) == 3
        counts["n"] = 8
        assert server._leave_a_core({"OMP_NUM_THREADS": "8"}) == 8   # torch follows the person's choice
        assert server._leave_a_core({"KRITA_NST_THREADS": "3"}) == 3
        counts["n"] = 8
        assert server._leave_a_core({"KRITA_NST_THREADS": "lots"}) == 7
        assert "KRITA_NST_THREADS='lots' is not a whole number" in caplog.text
    finally:
        monkeypatch.undo()
        torch.set_num_threads(before)
