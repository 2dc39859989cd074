"""Windows only: a Job Object that kills the backend when Krita ends, however it ends.

Linux has PR_SET_PDEATHSIG (set by the backend itself); Windows has no such thing, but a process
in a Job Object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE dies when the last handle to the job
closes, and Windows closes Krita's handles when Krita exits or crashes.  The structures are
declared in full (winnt.h) so that their layout can be checked on any platform.
"""

import ctypes
import logging
import sys
from typing import Any, Optional

log = logging.getLogger("krita_nst")

JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9     # JOBOBJECTINFOCLASS: JobObjectExtendedLimitInformation
PROCESS_TERMINATE = 0x0001
PROCESS_SET_QUOTA = 0x0100                    # with PROCESS_TERMINATE: what AssignProcessToJobObject needs


class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64),     # LARGE_INTEGER
                ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", ctypes.c_uint32),                 # DWORD
                ("MinimumWorkingSetSize", ctypes.c_size_t),      # SIZE_T
                ("MaximumWorkingSetSize", ctypes.c_size_t),
                ("ActiveProcessLimit", ctypes.c_uint32),
                ("Affinity", ctypes.c_size_t),                   # ULONG_PTR
                ("PriorityClass", ctypes.c_uint32),
                ("SchedulingClass", ctypes.c_uint32)]


class IO_COUNTERS(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
        "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]


class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION),
                ("IoInfo", IO_COUNTERS),
                ("ProcessMemoryLimit", ctypes.c_size_t),
                ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t),
                ("PeakJobMemoryUsed", ctypes.c_size_t)]


def _kernel32() -> Any:
    """kernel32 with the calls typed (the tests fake this function)."""
    if sys.platform != "win32":   # also tells the type checker that what follows is Windows-only
        raise OSError("kernel32 is Windows only")
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle, bool_ = ctypes.c_void_p, ctypes.c_int
    kernel32.CreateJobObjectW.argtypes, kernel32.CreateJobObjectW.restype = [ctypes.c_void_p, ctypes.c_wchar_p], handle
    kernel32.SetInformationJobObject.argtypes = [handle, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32]
    kernel32.SetInformationJobObject.restype = bool_
    kernel32.OpenProcess.argtypes, kernel32.OpenProcess.restype = [ctypes.c_uint32, bool_, ctypes.c_uint32], handle
    kernel32.AssignProcessToJobObject.argtypes, kernel32.AssignProcessToJobObject.restype = [handle, handle], bool_
    kernel32.CloseHandle.argtypes, kernel32.CloseHandle.restype = [handle], bool_
    return kernel32


class KillOnCloseJob:
    """Processes assigned to it die with this process.  A no-op outside Windows; failures are logged."""

    def __init__(self) -> None:
        self._job: Optional[int] = None
        self._kernel32: Any = None
        if sys.platform != "win32":
            return
        try:
            self._kernel32 = _kernel32()
        except OSError as exc:
            log.warning("krita-nst: no kernel32 (%s): the backend may outlive Krita if Krita crashes", exc)
            return
        job = self._kernel32.CreateJobObjectW(None, None)
        if not job:
            self._log_failure("CreateJobObjectW")
            return
        limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        if not self._kernel32.SetInformationJobObject(job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION,
                                                      ctypes.byref(limits), ctypes.sizeof(limits)):
            self._log_failure("SetInformationJobObject")
            self._kernel32.CloseHandle(job)
            return
        self._job = job

    def assign(self, pid: int) -> bool:
        if self._job is None:
            return False
        process = self._kernel32.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
        if not process:
            self._log_failure("OpenProcess(%d)" % pid)
            return False
        try:
            if not self._kernel32.AssignProcessToJobObject(self._job, process):
                self._log_failure("AssignProcessToJobObject(%d)" % pid)
                return False
            return True
        finally:
            self._kernel32.CloseHandle(process)

    @staticmethod
    def _log_failure(call: str) -> None:
        log.warning("krita-nst: %s failed (Windows error %d): the backend may outlive Krita if Krita crashes",
                    call, _last_error())


def _last_error() -> int:
    """The calling thread's last Windows error, as ctypes saved it (the tests fake this function)."""
    if sys.platform == "win32":
        return ctypes.get_last_error()
    return 0
