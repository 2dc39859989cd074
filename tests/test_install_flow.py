"""installer.torch_install.ensure and report: what is kept, what is replaced, the fallback when the
chosen index does not answer (a real unreachable address), and that the log says what the venv has."""

import pytest

from installer import torch_install
from installer.console import Fail
from installer.torch_build import INDEX, Build

CPU = Build("cpu", INDEX + "cpu", "no GPU torch can use found", [], "cu130")
CU126 = Build("cu126", INDEX + "cu126", "NVIDIA GeForce GTX 1080, driver 575.51", [], "cu130")
NOWHERE = "http://127.0.0.1:9/whl/cpu"   # the discard port: nothing listens


def torch(build, **can):
    got = {"version": "2.13.0+" + build, "build": build, "cuda": False, "rocm": False, "xpu": False, "mps": False,
           "device": "CPU (x86_64)", "stderr": ""}
    got.update(can)
    return got


class Venv:
    """A venv's torch as pip leaves it: `install` puts in what the index holds."""

    def __init__(self, has=None, index_gives="cu126", default_gives="cu130"):
        self.torch, self.calls = has, []
        self.index_gives, self.default_gives = index_gives, default_gives

    def ask(self, python):
        return self.torch

    def pip(self, python, args):
        self.calls.append(args)
        if args[0] == "uninstall":
            self.torch = None
        elif self.torch is None:   # pip keeps any installed 2.13.0+local as satisfying ==2.13.0
            self.torch = torch(self.index_gives if "--index-url" in args else self.default_gives)


def test_the_wanted_build_already_there_is_kept():
    venv = Venv(torch("cpu"))
    assert torch_install.ensure("py", CPU, ask=venv.ask, run_pip=venv.pip, can_reach=lambda url: True)["build"] == "cpu"
    assert venv.calls == []


def test_another_build_is_uninstalled_first_so_pip_does_not_keep_it(capsys):
    venv = Venv(torch("cpu"))
    got = torch_install.ensure("py", CU126, ask=venv.ask, run_pip=venv.pip, can_reach=lambda url: True)
    assert venv.calls == [["uninstall", "-y", "torch"], ["install", "torch==2.13.0", "--index-url", INDEX + "cu126"]]
    assert got["build"] == "cu126" and "replacing it with the cu126 build" in capsys.readouterr().out


def test_an_unreachable_index_falls_back_to_the_default_one_with_a_warning(capsys):
    venv = Venv(None)
    got = torch_install.ensure("py", CPU, index=NOWHERE, ask=venv.ask, run_pip=venv.pip)   # the real probe
    out = capsys.readouterr().out
    assert venv.calls == [["install", "torch==2.13.0"]] and got["build"] == "cu130"
    assert "WARNING: cannot reach %s" % NOWHERE in out and "PyPI's torch for this platform is the cu130 build" in out
    assert torch_install.report(got, CPU) == ["the cpu build was chosen (no GPU torch can use found) but the venv's "
                                              "torch is the cu130 build"]


def test_after_a_fallback_a_working_torch_is_kept_not_fetched_again(capsys):
    venv = Venv(torch("cu130"))
    got = torch_install.ensure("py", CPU, ask=venv.ask, run_pip=venv.pip, can_reach=lambda url: False)
    assert venv.calls == [] and got["build"] == "cu130" and "keeping the torch already in the venv" in \
        capsys.readouterr().out


def test_a_torch_spec_reinstalls_and_pypis_own_build_needs_no_index():
    venv = Venv(torch("cu130"))
    pypi = Build("cu130", None, "driver 580", [], "cu130")
    torch_install.ensure("py", pypi, spec="torch==2.13.0", ask=venv.ask, run_pip=venv.pip, can_reach=lambda url: 1 / 0)
    assert venv.calls == [["uninstall", "-y", "torch"], ["install", "torch==2.13.0"]]


def test_pip_failing_or_a_torch_that_does_not_import_is_a_message():
    def failing(python, args):
        import subprocess
        raise subprocess.CalledProcessError(1, ["pip"])
    with pytest.raises(Fail, match="pip could not install torch==2.13.0 from %scu126" % INDEX):
        torch_install.ensure("py", CU126, ask=lambda p: None, run_pip=failing, can_reach=lambda url: True)
    with pytest.raises(Fail, match="`import torch` fails in py"):
        torch_install.ensure("py", CU126, ask=lambda p: None, run_pip=lambda p, a: None, can_reach=lambda url: True)


def test_report_says_what_the_venv_has_and_warns_about_a_gpu_build_without_its_gpu(capsys):
    assert torch_install.report(torch("cu126", cuda=True, device="NVIDIA GeForce GTX 1080"), CU126) == []
    assert "2.13.0+cu126, cu126 build; GPU: CUDA available; device: NVIDIA GeForce GTX 1080" in capsys.readouterr().out
    blind = torch("cu126", stderr="UserWarning: CUDA initialization: The NVIDIA driver on your system is too old")
    assert torch_install.report(blind, CU126) == ["torch's cu126 build is installed but sees no GPU (UserWarning: CUDA "
                                                  "initialization: The NVIDIA driver on your system is too old): the "
                                                  "backend will run on the CPU"]
