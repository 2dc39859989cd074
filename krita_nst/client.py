"""The backend child process: started on first use, kept warm, stopped with Krita."""

import os
from typing import Any, Optional

from .core import backends, settings, wire
from .core.version import VERSION
from .decoder import Decoder
from .qt import QIODevice, QObject, QProcess, QProcessEnvironment, QTimer, pyqtSignal
from .winjob import KillOnCloseJob

# Krita's embedded Python sets these for itself; in the child they would break the backend's venv.
STRIPPED_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
LOG_LIMIT = 4 * 1024 * 1024   # past this, a start moves the log to backend.log.1 (replacing the older one)


def rotate_log(path: str, limit: int = LOG_LIMIT) -> None:
    """Start a fresh log when it has grown past `limit`: the last one stays as PATH.1.  Only a regular file
    (not /dev/full, say); where it cannot be moved (Windows, still open) it is appended to as before."""
    try:
        if os.path.isfile(path) and os.path.getsize(path) > limit:
            os.replace(path, path + ".1")
    except OSError:
        pass


class BackendClient(QObject):
    """Owns the QProcess; turns its stdout into wire messages.  Never blocks the UI thread."""

    message = pyqtSignal(object)     # wire.Message
    died = pyqtSignal(str)           # why, for a person, when it stopped without being asked to

    def __init__(self, backend: backends.Backend, log_path: str, parent: Optional[Any] = None) -> None:
        super().__init__(parent)
        self.backend, self.log_path = backend, log_path
        self._log_start = 0        # where this start's part of the log begins
        self._spoke = False        # whether this start's backend sent its hello
        self._process: Optional[Any] = None
        self._decoder = Decoder("the backend's stdout")
        self._stopping = False
        self._job_object: Optional[KillOnCloseJob] = None
        self._pinger = QTimer(self)   # over ssh: proves the link alive to the remote backend
        self._pinger.timeout.connect(self._ping)
        if backend.host:
            self._pinger.start(backends.PING_S * 1000)

    def running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    def pid(self) -> Optional[int]:
        """The backend's process id while it runs."""
        process = self._process
        return int(process.processId()) if process is not None and self.running() else None

    def start(self) -> None:
        if self.running():
            return
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        for name in STRIPPED_ENV:
            env.remove(name)
        env.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(env)
        if self.backend.cwd:
            process.setWorkingDirectory(self.backend.cwd)
        rotate_log(self.log_path)
        try:
            self._log_start = os.path.getsize(self.log_path)
        except OSError:
            self._log_start = 0
        self._spoke = False
        process.setStandardErrorFile(self.log_path, QIODevice.OpenModeFlag.Append)
        process.readyReadStandardOutput.connect(self._on_output)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process, self._stopping = process, False
        self._decoder = Decoder("the backend's stdout")
        command = list(self.backend.argv)
        process.start(command[0], command[1:])
        if self._job_object is None:
            self._job_object = KillOnCloseJob()
        if self.running():
            self._job_object.assign(int(process.processId()))

    def send(self, type: str, **fields: Any) -> None:
        """Encode first: a message that cannot be encoded raises before anything is written."""
        data = wire.encode(type, **fields)
        if not self.running():
            self.start()
        if self._process is None:   # failed to start; `died` has said why
            raise OSError("the backend is not running")
        self._process.write(data)

    def _ping(self) -> None:
        if self.running():
            assert self._process is not None
            self._process.write(wire.encode(wire.PING))

    def stop(self, wait_ms: int = 3000) -> None:
        """Close stdin (the backend exits on EOF), wait a little, then kill."""
        process = self._process
        if process is None:
            return
        self._stopping = True
        if process.state() != QProcess.ProcessState.NotRunning:
            process.closeWriteChannel()
            if not process.waitForFinished(wait_ms):
                process.kill()
                process.waitForFinished(1000)
        self._process = None

    def log_tail(self, lines: int = 5) -> str:
        """The last lines this start of the backend wrote (the log keeps every start's)."""
        return "\n".join(self.log_since_start().strip().splitlines()[-lines:])

    def _on_output(self) -> None:
        process = self._process
        if process is None or self.sender() is not process:
            return
        try:
            messages = self._decoder.feed(bytes(process.readAllStandardOutput()))
        except wire.ProtocolError as exc:
            self._fail("the backend sent something unreadable (%s)" % exc)
            return
        for message in messages:
            if message.type == wire.HELLO:
                self._spoke = True
                mismatch = self._mismatch(message)
                if mismatch:
                    self._fail(mismatch)
                    return
            self.message.emit(message)

    def _mismatch(self, hello: wire.Message) -> str:
        ours = (VERSION, wire.PROTOCOL_VERSION, settings.fingerprint())
        theirs = (hello.get("backend_version"), hello.get("protocol"), hello.get("settings_schema"))
        if theirs != ours:
            return ("The backend%s is krita-nst %s (protocol %s, settings %s) but this plugin is krita-nst %s "
                    "(protocol %s, settings %s). Run install.py%s from the same krita-nst release as the plugin, "
                    "then try again." % ((self.backend.where(),) + theirs + ours + (self.backend.where(),)))
        return ""

    def log_since_start(self, most: int = 4000) -> str:
        """The end of what this start wrote to the log (bounded: the log may be a device, e.g. /dev/full)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(self._log_start, os.fstat(f.fileno()).st_size - most))
                return f.read(most).decode("utf-8", "replace").replace("\0", "")
        except OSError:
            return ""

    def _on_finished(self, code: int, status: Any) -> None:
        if self.sender() is not self._process or self._stopping:
            return
        self._process = None
        if self.backend.host:
            killed = status == QProcess.ExitStatus.CrashExit
            self.died.emit(backends.ssh_failure(self.backend.host, -1 if killed else code, self.log_since_start(),
                                                self._spoke) + "\n(the whole log: %s)" % self.log_path)
            return
        how = "killed by signal %s" % code if status == QProcess.ExitStatus.CrashExit else "exit code %s" % code
        self.died.emit("The backend stopped unexpectedly (%s). Its log, %s, ends with:\n%s"
                       % (how, self.log_path, self.log_tail()))

    def _on_error(self, error: Any) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.sender() is self._process:
            self._process = None
            if self.backend.host:
                self.died.emit("ssh could not be started (%s): install the OpenSSH client, or set the krita_nst "
                               "setting `backend` to local." % self.backend.argv[0])
                return
            self.died.emit("The backend could not be started (%s -m backend serve). Run install.py again."
                           % self.backend.argv[0])

    def _fail(self, why: str) -> None:
        process, self._process = self._process, None
        if process is not None:
            self._stopping = True
            process.kill()
            process.waitForFinished(1000)   # SIGKILL: milliseconds; no zombie, no "destroyed while running"
        self.died.emit(why)
