"""The incremental reader of wire frames for a non-blocking stream (the plugin's QProcess).

The backend reads with the blocking `wire.read_message`; both share wire.py's header checks, so a
frame is judged the same on both sides.
"""

from typing import Any, Dict, List, Optional

from .core import wire


class Decoder:
    """Incremental decoder for a non-blocking reader (the plugin's QProcess): feed bytes, get messages.

    A well-framed but invalid message raises BadMessage once its payload has been dropped; the
    decoder stays in step, and messages decoded before it come back from the next feed.
    """

    def __init__(self, source: str = "the stream") -> None:
        self._buffer = bytearray()
        self._header: Optional[Dict[str, Any]] = None
        self._source = source
        self._bad: Optional[wire.BadMessage] = None
        self._skip = 0
        self._ready: List[wire.Message] = []

    def feed(self, data: bytes) -> List[wire.Message]:
        self._buffer += data
        messages, self._ready = self._ready, []
        while True:
            if self._bad is not None:
                dropped = min(self._skip, len(self._buffer))
                del self._buffer[:dropped]
                self._skip -= dropped
                if self._skip:
                    break
                bad, self._bad, self._ready = self._bad, None, messages
                raise bad
            if self._header is None:
                if len(self._buffer) < wire.PREFIX.size:
                    break
                length = wire.check_prefix(bytes(self._buffer[:wire.PREFIX.size]), self._source)
                if len(self._buffer) < wire.PREFIX.size + length:
                    break
                self._header = wire.parse_header(bytes(self._buffer[wire.PREFIX.size:wire.PREFIX.size + length]))
                del self._buffer[:wire.PREFIX.size + length]
                problem = wire.header_problem(self._header)
                if problem:
                    self._bad, self._skip = wire.bad_message(self._header, problem), sum(self._header["blobs"])
                    self._header = None
                    continue
            size = sum(self._header["blobs"])
            if len(self._buffer) < size:
                break
            payload = bytes(self._buffer[:size])
            del self._buffer[:size]
            header, self._header = self._header, None
            messages.append(wire.restore(header, payload))
        return messages

    @property
    def pending(self) -> int:
        """Bytes of an unfinished message; non-zero at end of stream means it was cut short."""
        return len(self._buffer) + self._skip + (1 if self._header is not None or self._bad is not None else 0)
