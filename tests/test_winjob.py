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
