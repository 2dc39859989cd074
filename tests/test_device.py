"""Where and in what precision the engine runs, and the memory a job used, measured for real."""

import pytest
import torch

from backend import device


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
