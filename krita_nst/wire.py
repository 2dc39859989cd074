"""The wire format between the Krita plugin and the backend: the one definition both sides import.

Pure standard library: it runs inside Krita's embedded Python and in the backend's venv.

A frame is::

    b"NST1" | header length (uint32, big endian) | header (UTF-8 JSON object) | payload

The header always has ``type`` and ``blobs`` (the byte length of each raw blob, in order); the
payload is those blobs back to back.  Images travel as raw pixels, never base64: in the JSON an
image is ``{"$image": blob_index, "width": W, "height": H, "format": F}``.  ``encode`` and
``decode`` turn :class:`Image` objects anywhere inside the fields into that form and back.
"""

import json
import struct

PROTOCOL_VERSION = 1
MAGIC = b"NST1"
_PREFIX = struct.Struct(">4sI")
MAX_HEADER = 1 << 20          # a header is small JSON; anything bigger is garbage
MAX_PAYLOAD = 1 << 32         # 4 GiB: above any layer Krita can hold in memory sensibly

# Message types.  Plugin -> backend: JOB, CANCEL.  Backend -> plugin: the rest.
HELLO = "hello"         # protocol, backend_version, torch_version, device
JOB = "job"             # id, content (Image), styles ([{"image": Image, "weight": w}]), settings
PROGRESS = "progress"   # id, step, total, losses {name: value}, stage, seconds, preview (Image), note (optional)
RESULT = "result"       # id, image (Image), seconds, steps, losses, peak_memory_mib
CANCEL = "cancel"       # id
CANCELLED = "cancelled" # id, step
ERROR = "error"         # id (or None), message (for a person), detail (for the log)
TYPES = (HELLO, JOB, PROGRESS, RESULT, CANCEL, CANCELLED, ERROR)

# Pixel layouts, 8 bits per channel, straight (not premultiplied) alpha, rows top to bottom.
# BGRA8 is what Krita's RGBA/U8 layers hold in memory, so the plugin sends it untouched.
FORMATS = {"RGBA8": 4, "BGRA8": 4, "RGB8": 3, "GRAYA8": 2, "GRAY8": 1}


class ProtocolError(Exception):
    """The byte stream is not a valid krita-nst message."""


class Image:
    """Raw pixels with their size and layout."""

    __slots__ = ("width", "height", "format", "data")

    def __init__(self, width, height, format, data):
        if format not in FORMATS:
            raise ProtocolError("unknown pixel format %r (known: %s)" % (format, ", ".join(FORMATS)))
        if width < 1 or height < 1:
            raise ProtocolError("an image needs at least one pixel, got %dx%d" % (width, height))
        expected = width * height * FORMATS[format]
        if len(data) != expected:
            raise ProtocolError("%dx%d %s needs %d bytes, got %d" % (width, height, format, expected, len(data)))
        self.width, self.height, self.format, self.data = int(width), int(height), format, data

    def __repr__(self):
        return "Image(%dx%d %s)" % (self.width, self.height, self.format)

    def __eq__(self, other):
        return (isinstance(other, Image) and (self.width, self.height, self.format) ==
                (other.width, other.height, other.format) and bytes(self.data) == bytes(other.data))


class Message:
    """A decoded message: its type and its fields, with images restored."""

    __slots__ = ("type", "fields")

    def __init__(self, type, fields):
        self.type, self.fields = type, fields

    def __getitem__(self, key):
        return self.fields[key]

    def get(self, key, default=None):
        return self.fields.get(key, default)

    def __repr__(self):
        return "Message(%s, %r)" % (self.type, self.fields)


def encode(type, **fields):
    """One message as bytes, ready to write."""
    if type not in TYPES:
        raise ProtocolError("unknown message type %r" % (type,))
    blobs = []

    def lift(value):
        if isinstance(value, Image):
            blobs.append(value.data)
            return {"$image": len(blobs) - 1, "width": value.width, "height": value.height,
                    "format": value.format}
        if isinstance(value, dict):
            return {k: lift(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [lift(v) for v in value]
        return value

    header = lift(fields)
    header["type"] = type
    header["blobs"] = [len(b) for b in blobs]
    raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return b"".join([_PREFIX.pack(MAGIC, len(raw)), raw] + [bytes(b) for b in blobs])


def _parse_header(raw):
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("message header is not valid JSON: %s" % exc) from None
    if not isinstance(header, dict) or header.get("type") not in TYPES:
        raise ProtocolError("message header has no known type: %.200r" % (header,))
    blobs = header.get("blobs")
    if not isinstance(blobs, list) or not all(isinstance(n, int) and n >= 0 for n in blobs):
        raise ProtocolError("message header has no valid blob list")
    if sum(blobs) > MAX_PAYLOAD:
        raise ProtocolError("message payload of %d bytes is too large" % sum(blobs))
    return header


def _restore(header, payload):
    blobs, offset = [], 0
    for n in header.pop("blobs"):
        blobs.append(payload[offset:offset + n])
        offset += n
    type = header.pop("type")

    def unlift(value):
        if isinstance(value, dict):
            if "$image" in value:
                try:
                    return Image(value["width"], value["height"], value["format"], blobs[value["$image"]])
                except (KeyError, IndexError, TypeError) as exc:
                    raise ProtocolError("bad image reference %r: %s" % (value, exc)) from None
            return {k: unlift(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unlift(v) for v in value]
        return value

    return Message(type, unlift(header))


def _check_prefix(prefix):
    magic, length = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise ProtocolError("not a krita-nst message (starts with %r); is something else "
                            "printing to the backend's stdout?" % bytes(prefix[:16]))
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


def read_message(stream):
    """Read one message from a binary stream; None at a clean end of stream."""
    first = stream.read(_PREFIX.size)
    if not first:
        return None
    prefix = first + _read_exactly(stream, _PREFIX.size - len(first), "prefix") \
        if len(first) < _PREFIX.size else first
    header = _parse_header(_read_exactly(stream, _check_prefix(prefix), "header"))
    payload = _read_exactly(stream, sum(header["blobs"]), "payload")
    return _restore(header, payload)


def write_message(stream, type, **fields):
    stream.write(encode(type, **fields))
    stream.flush()


class Decoder:
    """Incremental decoder for a non-blocking reader (the plugin's QProcess): feed bytes, get messages."""

    def __init__(self):
        self._buffer = bytearray()
        self._header = None

    def feed(self, data):
        self._buffer += data
        messages = []
        while True:
            if self._header is None:
                if len(self._buffer) < _PREFIX.size:
                    break
                length = _check_prefix(self._buffer[:_PREFIX.size])
                if len(self._buffer) < _PREFIX.size + length:
                    break
                self._header = _parse_header(bytes(self._buffer[_PREFIX.size:_PREFIX.size + length]))
                del self._buffer[:_PREFIX.size + length]
            size = sum(self._header["blobs"])
            if len(self._buffer) < size:
                break
            payload = bytes(self._buffer[:size])
            del self._buffer[:size]
            header, self._header = self._header, None
            messages.append(_restore(header, payload))
        return messages

    @property
    def pending(self):
        """Bytes of an unfinished message; non-zero at end of stream means it was cut short."""
        return len(self._buffer) + (1 if self._header is not None else 0)


class Setting:
    """One job setting: its type, default and range, shared by the plugin's panel, the CLI and the backend."""

    __slots__ = ("name", "type", "default", "low", "high", "choices", "label", "help")

    def __init__(self, name, type, default, low=None, high=None, choices=None, label="", help=""):
        self.name, self.type, self.default = name, type, default
        self.low, self.high, self.choices, self.label, self.help = low, high, choices, label, help

    def parse(self, value):
        """Check a value (or its text, as stored in a settings file); raise ValueError with a readable message."""
        try:
            if self.type is bool:
                if isinstance(value, str):
                    if value.strip().lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                        raise ValueError
                    value = value.strip().lower() in ("true", "1", "yes", "on")
                value = bool(value)
            elif self.type is str:
                value = str(value)
            else:
                if isinstance(value, bool):
                    raise ValueError
                value = self.type(float(value)) if self.type is int and isinstance(value, str) else self.type(value)
        except (TypeError, ValueError):
            raise ValueError("%s must be %s, not %r" % (self.name, self._describe(), value)) from None
        if self.choices is not None and value not in self.choices:
            raise ValueError("%s must be one of %s, not %r" % (self.name, ", ".join(self.choices), value))
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueError("%s must be between %s and %s, not %s" % (self.name, self.low, self.high, value))
        return value

    def _describe(self):
        if self.type is bool:
            return "true or false"
        return {int: "a whole number", float: "a number", str: "text"}[self.type]


SETTINGS = (
    Setting("size", int, 512, 64, 8192, label="Size",
            help="Longest side in pixels that the optimisation works at; the result is scaled to the layer."),
    Setting("steps", int, 100, 1, 10000, label="Steps",
            help="Optimisation steps over all scales together; fewer is faster, more is finer."),
    Setting("strength", float, 50.0, 0.0, 100.0, label="Strength",
            help="0 keeps the content, 100 is all style; each 10 points multiply the style weight by ~3."),
    Setting("style_scale", float, 1.0, 0.1, 4.0, label="Style scale",
            help="Size of the style's brush strokes relative to the content; above 1 gives bigger strokes."),
    Setting("preserve_colors", str, "none", choices=("none", "luminance", "histogram"), label="Keep colours",
            help="Keep the content's colours: transfer only luminance, or match the style's colours to the content first."),
    Setting("init", str, "content", choices=("content", "noise", "blend"), label="Start from",
            help="What the optimisation starts from: the content, noise, or a blend of both."),
    Setting("optimizer", str, "lbfgs", choices=("lbfgs", "adam"), label="Optimiser"),
    Setting("pooling", str, "avg", choices=("avg", "max"), label="Pooling",
            help="VGG pooling; Gatys et al. prefer average pooling."),
    Setting("smoothness", float, 1.0, 0.0, 100.0, label="Smoothness",
            help="Total-variation weight: higher removes speckle noise, too high blurs."),
    Setting("scales", int, 0, 0, 6, label="Scales",
            help="Coarse-to-fine pyramid levels; 0 picks them from the size (halving down to about 100 px)."),
    Setting("seed", int, 0, 0, 2 ** 31 - 1, label="Seed", help="Same seed, same settings, same device: same picture."),
    Setting("preview_every", int, 10, 1, 1000, label="Preview every",
            help="Send a preview after this many steps."),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


def check_settings(values):
    """All settings, defaults filled in; ValueError naming the first bad or unknown one."""
    unknown = sorted(set(values) - set(SETTINGS_BY_NAME))
    if unknown:
        raise ValueError("unknown setting(s): %s (known: %s)" % (", ".join(unknown), ", ".join(SETTINGS_BY_NAME)))
    return {s.name: s.parse(values[s.name]) if s.name in values else s.default for s in SETTINGS}
