"""The Windows Job Object structures: their layout checked on any 64-bit platform against winnt.h."""

import ctypes

import pytest

from krita_nst import winjob

pytestmark = pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8, reason="the sizes below are for 64-bit")


def test_extended_limit_information_matches_the_windows_x64_layout():
    basic = winjob.JOBOBJECT_BASIC_LIMIT_INFORMATION
    assert ctypes.sizeof(basic) == 64
    assert basic.LimitFlags.offset == 16 and basic.MinimumWorkingSetSize.offset == 24
    assert basic.Affinity.offset == 48 and basic.SchedulingClass.offset == 60
    assert ctypes.sizeof(winjob.IO_COUNTERS) == 48
    extended = winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
    assert ctypes.sizeof(extended) == 144
    assert extended.IoInfo.offset == 64 and extended.ProcessMemoryLimit.offset == 112
    assert extended.PeakJobMemoryUsed.offset == 136


def test_the_kill_flag_lands_in_limit_flags():
    limits = winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
    limits.BasicLimitInformation.LimitFlags = winjob.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    raw = bytes(limits)
    assert int.from_bytes(raw[16:20], "little") == 0x2000 and raw.count(0) == len(raw) - 1


def test_outside_windows_it_is_a_no_op():
    job = winjob.KillOnCloseJob()
    assert job.assign(12345) is False


class FakeKernel32:
    """kernel32 as Windows answers, recording the calls; `fail` names the calls that return 0."""

    JOB, PROCESS = 0x1234, 0x5678

    def __init__(self, fail=()):
        self.calls, self.fail, self.limits = [], set(fail), None

    def __getattr__(self, name):   # the argtypes/restype settings land on these, as on ctypes functions
        def call(*args):
            self.calls.append((name,) + args)
            return 0 if name in self.fail else self._answer(name, args)
        call.__name__ = name
        setattr(self, name, call)
        return call

    def _answer(self, name, args):
        if name == "SetInformationJobObject":
            job, info_class, limits, size = args
            self.limits = (info_class, bytes(limits._obj), size)
        return {"CreateJobObjectW": self.JOB, "OpenProcess": self.PROCESS}.get(name, 1)


@pytest.fixture
def windows(monkeypatch):
    def install(**fake):
        kernel32 = FakeKernel32(**fake)
        monkeypatch.setattr(winjob.sys, "platform", "win32")
        monkeypatch.setattr(winjob, "_kernel32", lambda: kernel32)
        monkeypatch.setattr(winjob, "_last_error", lambda: 5)   # ERROR_ACCESS_DENIED
        return kernel32
    return install


def test_on_windows_the_job_kills_on_close_and_takes_the_backend_in(windows):
    kernel32 = windows()
    job = winjob.KillOnCloseJob()
    info_class, limits, size = kernel32.limits
    assert info_class == winjob.JOB_OBJECT_EXTENDED_LIMIT_INFORMATION and size == len(limits) == 144
    assert int.from_bytes(limits[16:20], "little") == winjob.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    assert job.assign(4242) is True
    names = [c[0] for c in kernel32.calls]
    assert names == ["CreateJobObjectW", "SetInformationJobObject", "OpenProcess", "AssignProcessToJobObject",
                     "CloseHandle"]
    assert kernel32.calls[2] == ("OpenProcess", 0x0101, False, 4242)   # PROCESS_SET_QUOTA | PROCESS_TERMINATE
    assert kernel32.calls[3] == ("AssignProcessToJobObject", kernel32.JOB, kernel32.PROCESS)
    assert kernel32.calls[4] == ("CloseHandle", kernel32.PROCESS)   # the process handle, never the job's


@pytest.mark.parametrize("failing, assigned", [("CreateJobObjectW", False), ("SetInformationJobObject", False),
                                               ("OpenProcess", False), ("AssignProcessToJobObject", False)])
def test_each_failing_call_is_logged_with_its_error_and_nothing_raises(windows, caplog, failing, assigned):
    kernel32 = windows(fail={failing})
    job = winjob.KillOnCloseJob()
    assert job.assign(4242) is assigned
    assert failing in caplog.text and "Windows error 5" in caplog.text and "outlive Krita" in caplog.text
    opened = [c for c in kernel32.calls if c[0] == "OpenProcess" and failing != "OpenProcess"]
    closes = [c for c in kernel32.calls if c[0] == "CloseHandle"]
    assert len(closes) == len(opened) + (failing == "SetInformationJobObject")   # every handle opened is closed


def test_without_kernel32_it_says_so_and_is_a_no_op(monkeypatch, caplog):
    monkeypatch.setattr(winjob.sys, "platform", "win32")
    monkeypatch.setattr(winjob, "_kernel32", lambda: (_ for _ in ()).throw(OSError("no kernel32 here")))
    job = winjob.KillOnCloseJob()
    assert job.assign(1) is False and "no kernel32 here" in caplog.text
