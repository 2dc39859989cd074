"""The wire format between the Krita plugin and the backend: the one definition both sides import.

Pure standard library: it runs inside Krita's embedded Python and in the backend's venv.

A frame is::

    b"NST1" | header length (uint32, big endian) | header (UTF-8 JSON object) | payload

The header always has ``type`` and ``blobs`` (the byte length of each raw blob, in order); the
payload is those blobs back to back.  Images travel as raw pixels, never base64: in the JSON an
image is ``{"$image": blob_index, "width": W, "height": H, "format": F}``, plus ``"encoding": "png"`` when
its blob is a PNG file of those pixels rather than the pixels (ssh links are slow; a pipe is not).  ``encode`` and
``decode`` turn :class:`Image` objects anywhere inside the fields into that form and back.
"""

import json
import struct
from typing import Any, Dict, List, Optional, Protocol

from .kinds import MAX_DEPTH, fields_problem, is_id

PROTOCOL_VERSION = 3   # 3: animate and frame (an older backend would stop at an animate message)
MAGIC = b"NST1"
PREFIX = struct.Struct(">4sI")
MAX_HEADER = 1 << 20          # a header is small JSON; anything bigger is garbage
MAX_PAYLOAD = 1 << 32         # 4 GiB: above any layer Krita can hold in memory sensibly
MAX_PIXELS = 64 * 1024 * 1024  # 8192 x 8192: the biggest image a message may carry, refused from its header
_SKIP_CHUNK = 1 << 20         # an invalid message's payload is read and dropped this much at a time

# Message types.  Plugin -> backend: JOB, ANIMATE, CANCEL, PING.  Backend -> plugin: the rest.
HELLO = "hello"         # protocol, settings_schema, backend_version, torch_version, device
JOB = "job"             # id, content (Image), styles ([{"image": Image, "weight": w}]), settings,
                        # encoding (optional: "png" asks for PNG images back), key (optional: see warm)
PROGRESS = "progress"   # id, step, total, losses {name: value}, stage, seconds, preview (Image), note (optional),
                        # warm (true: started from the last result of the job's key)
RESULT = "result"       # id, image (Image), seconds, steps, losses, peak_memory_mib, warm
CANCEL = "cancel"       # id
PING = "ping"           # (nothing): proves a network link alive; see `serve --link-timeout`
CANCELLED = "cancelled" # id, step; after an animate also frames (how many were done and sent)
ERROR = "error"         # id (or None), message (for a person), detail (for the log)
# An animation: one ANIMATE, the frames in time order, each sent back in a FRAME as soon as it is done.
ANIMATE = "animate"     # id, frames ([Image or null: an empty frame, skipped; the frame after starts cold]),
                        # styles, settings (temporal: see settings.py), encoding (optional).  Its PROGRESS
                        # frames add frame (index in frames) and frames (count) and carry no preview; its
                        # RESULT (all frames done) has frames (how many), seconds, steps, losses,
                        # peak_memory_mib, warm (false) and no image; CANCELLED keeps the frames already sent;
                        # an ERROR's message names the frame ("frame 3 of 24: ...")
FRAME = "frame"         # id, frame (index in the animate's frames), frames (count), image (Image), seconds,
                        # steps, losses
TYPES = (HELLO, JOB, PROGRESS, RESULT, CANCEL, PING, CANCELLED, ERROR, ANIMATE, FRAME)

# Pixel layouts, 8 bits per channel, straight (not premultiplied) alpha, rows top to bottom.
# BGRA8 is what Krita's RGBA/U8 layers hold in memory, so the plugin sends it untouched.
FORMATS = {"RGBA8": 4, "BGRA8": 4, "RGB8": 3, "GRAYA8": 2, "GRAY8": 1}
# How an image's blob holds its pixels: as they are, or as a PNG file (whose format is RGBA8).
RAW, PNG = "raw", "png"
ENCODINGS = (RAW, PNG)


class ProtocolError(Exception):
    """The byte stream is not a valid krita-nst message."""


class BadMessage(ProtocolError):
    """A well-framed message with invalid content (an image whose size does not match its bytes, ...).

    The whole frame has been consumed (its payload read or skipped), so the stream is still in step:
    a reader may answer for ``id`` and go on with the next message.
    """

    def __init__(self, text: str, type: Any, id: Any) -> None:
        super().__init__(text)
        self.type, self.id = type, id


def _image_problem(width: Any, height: Any, format: Any, size: int, max_pixels: Optional[int] = None,
                   encoding: Any = RAW) -> Optional[str]:
    """Why these fields cannot be an image with a `size` bytes blob; None when they can."""
    if not isinstance(encoding, str) or encoding not in ENCODINGS:   # a list is unhashable: check the kind first
        return "unknown image encoding %.100r (known: %s)" % (encoding, ", ".join(ENCODINGS))
    if not isinstance(format, str) or format not in FORMATS:
        return "unknown pixel format %.100r (known: %s)" % (format, ", ".join(FORMATS))
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (width, height)):
        return "an image's width and height must be whole numbers, got %r x %r" % (width, height)
    if width < 1 or height < 1:
        return "an image needs at least one pixel, got %dx%d" % (width, height)
    if max_pixels is not None and width * height > max_pixels:
        return "%dx%d px is more than the %d megapixels the backend takes; crop or scale it down" \
            % (width, height, max_pixels // (1024 * 1024))
    expected = width * height * FORMATS[format]
    if encoding == PNG:   # its size is unknown until decoded, but deflate never grows data by much
        if format != "RGBA8":
            return "a PNG image's format is RGBA8, not %s" % format
        if not 0 < size <= expected + expected // 8 + (1 << 16):
            return "a %dx%d PNG cannot be %d bytes" % (width, height, size)
        return None
    if size != expected:
        return "%dx%d %s needs %d bytes, got %d" % (width, height, format, expected, size)
    return None


class Image:
    """Pixels with their size and layout: raw, or (encoding PNG) a PNG file of them."""

    __slots__ = ("width", "height", "format", "data", "encoding")

    def __init__(self, width: int, height: int, format: str, data: bytes, encoding: str = RAW) -> None:
        problem = _image_problem(width, height, format, len(data), encoding=encoding)
        if problem:
            raise ProtocolError(problem)
        self.width, self.height, self.format, self.data = int(width), int(height), format, data
        self.encoding = encoding

    def __repr__(self):
        return "Image(%dx%d %s%s)" % (self.width, self.height, self.format,
                                      "" if self.encoding == RAW else " " + self.encoding)

    def __eq__(self, other):
        return (isinstance(other, Image) and (self.width, self.height, self.format, self.encoding) ==
                (other.width, other.height, other.format, other.encoding) and bytes(self.data) == bytes(other.data))


class Message:
    """A decoded message: its type and its fields, with images restored."""

    __slots__ = ("type", "fields")

    def __init__(self, type: str, fields: Dict[str, Any]) -> None:
        self.type, self.fields = type, fields

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    def __repr__(self):
        return "Message(%s, %r)" % (self.type, self.fields)


def encode(type: str, **fields: Any) -> bytes:
    """One message as bytes, ready to write."""
    if type not in TYPES:
        raise ProtocolError("unknown message type %r" % (type,))
    blobs: List[bytes] = []

    def lift(value: Any) -> Any:
        if isinstance(value, Image):
            blobs.append(value.data)
            lifted = {"$image": len(blobs) - 1, "width": value.width, "height": value.height,
                      "format": value.format}
            if value.encoding != RAW:
                lifted["encoding"] = value.encoding
            return lifted
        if isinstance(value, dict):
            return {k: lift(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [lift(v) for v in value]
        return value

    header = lift(fields)
    header["type"] = type
    header["blobs"] = [len(b) for b in blobs]
    raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return b"".join([PREFIX.pack(MAGIC, len(raw)), raw] + [bytes(b) for b in blobs])


def parse_header(raw):
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:   # RecursionError: [[[[...]]]]
        raise ProtocolError("message header is not valid JSON: %.200s" % exc) from None
    if not isinstance(header, dict) or header.get("type") not in TYPES:
        raise ProtocolError("message header has no known type: %.200r" % (header,))
    blobs = header.get("blobs")
    if not isinstance(blobs, list) or not all(isinstance(n, int) and n >= 0 for n in blobs):
        raise ProtocolError("message header has no valid blob list")
    if sum(blobs) > MAX_PAYLOAD:
        raise ProtocolError("message payload of %d bytes is too large" % sum(blobs))
    return header


def header_problem(header):
    """Why a parsed header's fields are of the wrong kind, or its images cannot be decoded (named by where they
    sit), from the header alone."""
    blobs = header["blobs"]

    def walk(value, where, depth=0):
        if depth > MAX_DEPTH:
            return "%s: nested more than %d levels deep" % (where, MAX_DEPTH)
        if isinstance(value, dict) and "$image" in value:
            index = value["$image"]
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(blobs):
                return "%s: bad image reference %.200r" % (where, value)
            problem = _image_problem(value.get("width"), value.get("height"), value.get("format"),
                                     blobs[index], MAX_PIXELS, value.get("encoding", RAW))
            return problem and "%s: %s" % (where, problem)
        if isinstance(value, dict):
            children = [("%s.%s" % (where, k) if where else k, v) for k, v in value.items()]
        elif isinstance(value, list):
            children = [("%s[%d]" % (where, i), v) for i, v in enumerate(value)]
        else:
            return None
        return next((p for p in (walk(v, w, depth + 1) for w, v in children) if p), None)

    fields = {k: v for k, v in header.items() if k not in ("type", "blobs")}
    return walk(fields, "") or fields_problem(header["type"], fields)


def bad_message(header, problem):
    job_id = header.get("id") if is_id(header.get("id")) else None
    return BadMessage("invalid %s message: %s" % (header["type"], problem), header["type"], job_id)


def restore(header, payload):
    """The Message of a header checked by header_problem and its payload."""
    blobs, offset = [], 0
    for n in header.pop("blobs"):
        blobs.append(payload[offset:offset + n])
        offset += n
    type = header.pop("type")

    def unlift(value):
        if isinstance(value, dict):
            if "$image" in value:
                return Image(value["width"], value["height"], value["format"], blobs[value["$image"]],
                             value.get("encoding", RAW))
            return {k: unlift(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unlift(v) for v in value]
        return value

    return Message(type, unlift(header))


def check_prefix(prefix: bytes, source: str) -> int:
    magic, length = PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise ProtocolError("%s carries something that is not a krita-nst message (it starts with %r); "
                            "is something else writing to it?" % (source, bytes(prefix[:16])))
    if length > MAX_HEADER:
        raise ProtocolError("message header of %d bytes is too large" % length)
    return length


def _read_exactly(stream, n, what):
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    if got < n:
        raise ProtocolError("stream ended inside a message's %s (%d of %d bytes)" % (what, got, n))
    return b"".join(chunks)


def _skip(stream, n):
    """Read and drop n bytes in bounded chunks: an invalid message's payload never sits in memory whole."""
    left = n
    while left:
        chunk = stream.read(min(left, _SKIP_CHUNK))
        if not chunk:
            raise ProtocolError("stream ended inside a message's payload (%d of %d bytes)" % (n - left, n))
        left -= len(chunk)


class Readable(Protocol):
    def read(self, n: int, /) -> bytes: ...


def read_message(stream: Readable, source: str = "the stream") -> Optional[Message]:
    """Read one message from a binary stream; None at a clean end of stream.

    source names the stream in errors, e.g. "the backend's stdin".  Raises BadMessage for a
    well-framed message whose images are invalid or too big (its payload skipped, not stored: the
    stream stays in step), ProtocolError for anything else (the stream cannot be trusted any more).
    """
    first = stream.read(PREFIX.size)
    if not first:
        return None
    prefix = first + _read_exactly(stream, PREFIX.size - len(first), "prefix") \
        if len(first) < PREFIX.size else first
    header = parse_header(_read_exactly(stream, check_prefix(prefix, source), "header"))
    size = sum(header["blobs"])
    problem = header_problem(header)
    if problem:
        _skip(stream, size)
        raise bad_message(header, problem)
    payload = _read_exactly(stream, size, "payload")
    return restore(header, payload)
