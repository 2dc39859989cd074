"""installer.torch_build: which torch build each platform and GPU gets, and from which index."""

import pytest

from installer.console import Fail
from installer.gpus import Machine, Nvidia
from installer.torch_build import INDEX, select


def linux(nvidia=(), amd=None, others=(), arch="x86_64"):
    return Machine("linux", arch, list(nvidia), amd, list(others))


def windows(nvidia=(), others=(), arch="x86_64"):
    return Machine("win32", arch, list(nvidia), None, list(others))


def gpu(driver, cap, name="NVIDIA GeForce RTX 4070"):
    return Nvidia(name, driver, cap)


def test_no_gpu_gets_the_cpu_build_from_pytorchs_index_on_linux_and_from_pypi_on_windows():
    build = select(linux())
    assert (build.name, build.url, build.pypi) == ("cpu", INDEX + "cpu", "cu130")
    assert (select(windows()).name, select(windows()).url) == ("cpu", None)   # PyPI's Windows wheel is the CPU one


@pytest.mark.parametrize("driver, cap, expected", [
    ((580, 95, 5), (8, 9), "cu130"),
    ((575, 51), (8, 9), "cu128"),
    ((565, 57, 1), (8, 9), "cu126"),
    ((580, 95, 5), (6, 1), "cu126"),     # Pascal: only cu126 still has its kernels
    ((580, 95, 5), (7, 0), "cu128"),     # Volta: CUDA 13 dropped it
    ((575, 51), (12, 0), "cu128"),       # Blackwell: cu126 has no sm_120
])
def test_nvidia_gets_the_newest_cuda_build_its_driver_and_gpu_run(driver, cap, expected):
    build = select(linux([gpu(driver, cap)]))
    assert build.name == expected and build.notes == []
    assert build.url == (None if expected == "cu130" else INDEX + expected)   # PyPI's Linux wheel is cu130


def test_windows_nvidia_always_comes_from_pytorchs_index_with_windows_driver_numbers():
    assert select(windows([gpu((580, 88), (8, 6))])).url == INDEX + "cu130"
    assert select(windows([gpu((570, 60), (8, 6))])).name == "cu126"   # 570.60 < Windows' 570.65 for 12.8
    assert select(linux([gpu((570, 60), (8, 6))])).name == "cu128"     # Linux needs 570.26


def test_an_old_driver_runs_cu126_through_minor_version_compatibility_and_says_so():
    build = select(linux([gpu((535, 183, 1), (8, 6))]))
    assert build.name == "cu126" and "minor-version compatibility" in build.notes[0]


def test_too_old_a_driver_or_gpu_falls_back_to_cpu_with_the_reason():
    build = select(linux([gpu((470, 82), None)]))
    assert build.name == "cpu" and "470.82 is too old" in build.notes[0] and "560.28.3" in build.notes[0]
    kepler = select(linux([gpu((580, 95), (3, 5), "Tesla K80")]))
    assert kepler.name == "cpu" and "Tesla K80 (compute capability 3.5)" in kepler.notes[0]
    with pytest.raises(Fail, match="too old"):
        select(linux([gpu((470, 82), None)]), "cuda")


def test_amd_on_linux_gets_rocm_when_its_target_is_supported():
    build = select(linux(amd=["gfx1100"]))
    assert build.name.startswith("rocm") and build.url == INDEX + build.name
    apu = select(linux(amd=["gfx1035"]))
    assert apu.name == "cpu" and "gfx1035" in apu.notes[0]
    no_rocm = select(linux(others=["Advanced Micro Devices, Inc. [AMD/ATI] Navi 31 [Radeon RX 7900 XTX]"]))
    assert no_rocm.name == "cpu" and "no rocminfo" in no_rocm.notes[0]
    windows_amd = select(windows(others=["AMD Radeon RX 7900 XTX"]))
    assert windows_amd.name == "cpu" and "no ROCm build for Windows" in windows_amd.notes[0]


def test_intel_arc_gets_xpu_and_other_intel_graphics_do_not():
    assert select(windows(others=["Intel(R) Arc(TM) A770 Graphics"])).url == INDEX + "xpu"
    assert select(linux(others=["Intel Corporation DG2 [Arc A770] (rev 08)"])).name == "xpu"
    assert select(windows(others=["Intel(R) UHD Graphics 770"])).name == "cpu"


def test_nvidia_wins_over_an_integrated_intel_gpu():
    assert select(windows([gpu((580, 88), (8, 9))], others=["Intel(R) Arc(TM) Graphics"])).name == "cu130"


def test_apple_silicon_gets_pypis_mps_wheel_and_intel_macs_a_clear_refusal():
    build = select(Machine("darwin", "arm64", [], None, [], False, (14, 5)))
    assert (build.name, build.url) == ("mps", None)
    with pytest.raises(Fail, match="no wheel for Intel Macs"):
        select(Machine("darwin", "x86_64", [], None, [], False, (13, 6)))
    with pytest.raises(Fail, match="Rosetta"):
        select(Machine("darwin", "x86_64", [], None, [], True, (14, 5)))
    with pytest.raises(Fail, match="macOS 14"):
        select(Machine("darwin", "arm64", [], None, [], False, (13, 6)))


def test_overrides():
    assert select(linux([gpu((580, 95), (8, 9))]), "cpu").name == "cpu"
    assert select(linux(), "cu126").url == INDEX + "cu126"
    assert select(linux(), "cuda").name == "cu130"          # no nvidia-smi: the newest
    assert select(linux(), "rocm6.3").url == INDEX + "rocm6.3"
    for bad, message in (("cuda12", "give auto"), ("rocm", "no ROCm build for Windows"), ("mps", "only on macOS")):
        with pytest.raises(Fail, match=message):
            select(windows(), bad)
    with pytest.raises(Fail, match="no wheel for win32 on arm64"):
        select(windows(arch="arm64"))
