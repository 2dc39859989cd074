"""installer.gpus and torch_install's probes against real processes: stand-in nvidia-smi and rocminfo
on PATH, the venv's real torch, a real HTTP server and addresses that do not answer."""

import http.server
import os
import socket
import stat
import sys
import threading

import pytest

from installer import gpus, torch_install
from installer.torch_build import select

NVIDIA_SMI = """#!/bin/sh
case "$*" in
  *compute_cap*) [ -n "$OLD_DRIVER" ] && { echo 'Field "compute_cap" is not a valid field to query.'; exit 2; }
                 echo 'NVIDIA GeForce RTX 3060, 575.51.02, 8.6'; echo 'NVIDIA GeForce GTX 1080, 575.51.02, 6.1' ;;
  *) echo 'Tesla K80, 470.82.01' ;;
esac
"""
ROCMINFO = "#!/bin/sh\n" + "".join("echo '%s'\n" % line for line in """\
*******
Agent 1
*******
  Name:                    AMD Ryzen 9 7950X 16-Core Processor
  Device Type:             CPU
*******
Agent 2
*******
  Name:                    gfx1100
  Marketing Name:          Radeon RX 7900 XTX
  Device Type:             GPU
  ISA Info:
    ISA 1
      Name:                    amdgcn-amd-amdhsa--gfx1100
""".splitlines())   # echo: PATH has only the stand-ins


@pytest.fixture
def tools(tmp_path, monkeypatch):
    def put(name, text):
        path = tmp_path / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))
    return put


def test_nvidia_smi_is_read_per_gpu_and_an_old_driver_without_compute_cap_is_asked_again(tools, monkeypatch):
    tools("nvidia-smi", NVIDIA_SMI)
    assert gpus.nvidia_smi() == [gpus.Nvidia("NVIDIA GeForce RTX 3060", (575, 51, 2), (8, 6)),
                                 gpus.Nvidia("NVIDIA GeForce GTX 1080", (575, 51, 2), (6, 1))]
    monkeypatch.setenv("OLD_DRIVER", "1")
    assert gpus.nvidia_smi() == [gpus.Nvidia("Tesla K80", (470, 82, 1), None)]


def test_missing_or_failing_nvidia_smi_means_no_nvidia_gpu(tools):
    assert gpus.nvidia_smi() == []
    tools("nvidia-smi", "#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate'; exit 9\n")
    assert gpus.nvidia_smi() == []


def test_rocminfo_gives_the_gpu_agents_targets_once(tools):
    if os.path.exists("/opt/rocm/bin/rocminfo"):
        pytest.skip("a real ROCm is installed here")
    assert gpus.rocminfo() is None
    tools("rocminfo", ROCMINFO)
    assert gpus.rocminfo() == ["gfx1100"]


def test_the_probed_machine_selects_as_the_tools_say(tools, monkeypatch):
    tools("nvidia-smi", NVIDIA_SMI)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(gpus.platform, "machine", lambda: "x86_64")
    build = select(gpus.probe())
    assert build.name == "cu128" and "RTX 3060, driver 575.51.2" in build.why   # GPU 0 decides


def test_the_venvs_torch_says_what_it_is():
    got = torch_install.inspect(sys.executable)
    import torch
    assert got is not None and got["version"] == torch.__version__
    assert got["cuda"] == torch.cuda.is_available() and got["device"]
    if "+" in torch.__version__:
        assert got["build"] == torch.__version__.split("+")[1]


def test_a_python_without_torch_inspects_as_none(tmp_path):
    (tmp_path / "torch.py").write_text("raise ImportError('no torch here')\n")
    env_python = os.path.join(str(tmp_path), "python")
    os.symlink(sys.executable, env_python)
    assert torch_install.inspect(str(tmp_path / "missing-python")) is None
    old = os.getcwd()
    try:
        os.chdir(tmp_path)   # `-c` puts the working folder first on sys.path: the fake torch shadows the real one
        assert torch_install.inspect(env_python) is None
    finally:
        os.chdir(old)


def test_reachable_is_true_for_any_http_answer_and_false_for_no_answer():
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert torch_install.reachable("http://127.0.0.1:%d/whl/cpu" % server.server_port)
    finally:
        server.shutdown()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert not torch_install.reachable("http://127.0.0.1:%d/whl/cpu" % port, timeout=5)
    assert not torch_install.reachable("https://download.pytorch.invalid/whl/cpu", timeout=5)
    assert torch_install.reachable("file:///opt/wheels")   # not probed: pip reads it
