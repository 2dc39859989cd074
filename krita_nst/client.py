"""The backend child process: started on first use, kept warm, stopped with Krita."""

import os
import sys

from PyQt5.QtCore import QIODevice, QObject, QProcess, QProcessEnvironment, pyqtSignal
from PyQt5.QtWidgets import QApplication

from . import wire


class BackendClient(QObject):
    """Owns the QProcess; turns its stdout into wire messages.  Never blocks the UI thread."""

    message = pyqtSignal(object)     # wire.Message
    died = pyqtSignal(str)           # why, for a person, when it stopped without being asked to

    def __init__(self, python, root, log_path, parent=None):
        super().__init__(parent)
        self.python, self.root, self.log_path = python, root, log_path
        self.hello = None
        self._process = None
        self._decoder = None
        self._stopping = False
        self._job_object = None

    def running(self):
        return self._process is not None and self._process.state() != QProcess.NotRunning

    def start(self):
        if self.running():
            return
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):  # Krita's embedded paths break a venv
            env.remove(name)
        env.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(env)
        process.setWorkingDirectory(self.root)
        process.setStandardErrorFile(self.log_path, QIODevice.Append)
        process.readyReadStandardOutput.connect(self._on_output)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process, self._decoder, self._stopping, self.hello = process, wire.Decoder(), False, None
        process.start(self.python, ["-m", "backend", "serve", "--parent-pid", str(QApplication.applicationPid())])
        self._attach_to_job_object()

    def send(self, type, **fields):
        if not self.running():
            self.start()
        self._process.write(wire.encode(type, **fields))

    def stop(self, wait_ms=3000):
        """Close stdin (the backend exits on EOF), wait a little, then kill."""
        process = self._process
        if process is None:
            return
        self._stopping = True
        if process.state() != QProcess.NotRunning:
            process.closeWriteChannel()
            if not process.waitForFinished(wait_ms):
                process.kill()
                process.waitForFinished(1000)
        self._process = None

    def log_tail(self, lines=5):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:]).strip()
        except OSError:
            return ""

    def _on_output(self):
        process = self.sender()
        if process is not self._process:
            return
        try:
            messages = self._decoder.feed(bytes(process.readAllStandardOutput()))
        except wire.ProtocolError as exc:
            self._fail("the backend sent something unreadable (%s)" % exc)
            return
        for message in messages:
            if message.type == wire.HELLO:
                self.hello = message
                if message.get("protocol") != wire.PROTOCOL_VERSION:
                    self._fail("the backend speaks protocol %s, this plugin %s; run install.py again"
                               % (message.get("protocol"), wire.PROTOCOL_VERSION))
                    return
            self.message.emit(message)

    def _on_finished(self, code, status):
        if self.sender() is not self._process or self._stopping:
            return
        self._process = None
        self.died.emit("The backend stopped unexpectedly (exit code %s). Its log, %s, ends with:\n%s"
                       % (code, self.log_path, self.log_tail()))

    def _on_error(self, error):
        if error == QProcess.FailedToStart and self.sender() is self._process:
            self._process = None
            self.died.emit("The backend could not be started (%s %s). Run install.py again."
                           % (self.python, "-m backend serve"))

    def _fail(self, why):
        process, self._process = self._process, None
        if process is not None:
            self._stopping = True
            process.kill()
        self.died.emit(why)

    def _attach_to_job_object(self):
        """On Windows, a Job Object kills the backend when Krita ends, however it ends."""
        if sys.platform != "win32" or self._process is None:
            return
        try:
            import ctypes
            from ctypes import wintypes
            kernel32 = ctypes.windll.kernel32
            if self._job_object is None:
                job = kernel32.CreateJobObjectW(None, None)

                class Limits(ctypes.Structure):  # JOBOBJECT_EXTENDED_LIMIT_INFORMATION, only what we set
                    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                                ("LimitFlags", wintypes.DWORD), ("rest", ctypes.c_byte * 124)]  # 144 bytes on x64
                limits = Limits()
                limits.LimitFlags = 0x2000  # JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
                kernel32.SetInformationJobObject(job, 9, ctypes.byref(limits), ctypes.sizeof(limits))
                self._job_object = job
            handle = kernel32.OpenProcess(0x1F0FFF, False, int(self._process.processId()))
            if handle:
                kernel32.AssignProcessToJobObject(self._job_object, handle)
                kernel32.CloseHandle(handle)
        except (OSError, AttributeError):
            pass
