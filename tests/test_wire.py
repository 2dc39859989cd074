"""The wire format: round trips, incremental decoding, and clear errors on bad bytes."""

import io
import json

import pytest

from krita_nst.core import wire
from krita_nst.core.wire import Image, ProtocolError
from krita_nst.decoder import Decoder


def image(w=3, h=2, fmt="BGRA8", seed=7):
    n = w * h * wire.FORMATS[fmt]
    return Image(w, h, fmt, bytes((seed * i) % 256 for i in range(n)))


def header_of(frame):
    """The JSON header of one encoded frame (magic, 4-byte big-endian length, header, blobs)."""
    assert frame[:4] == wire.MAGIC
    length = int.from_bytes(frame[4:8], "big")
    return json.loads(frame[8:8 + length])


def test_round_trip_with_images_nested():
    content, style = image(), image(5, 4, "RGBA8", 3)
    data = wire.encode(wire.JOB, id=7, content=content, styles=[{"image": style, "weight": 0.5}],
                       settings={"size": 256, "strength": 42.5})
    message = wire.read_message(io.BytesIO(data))
    assert message.type == wire.JOB
    assert message["id"] == 7
    assert message["content"] == content
    assert message["styles"][0]["image"] == style and message["styles"][0]["weight"] == 0.5
    assert message["settings"] == {"size": 256, "strength": 42.5}


def test_raw_pixels_not_base64():
    big = image(64, 64, "RGBA8")
    data = wire.encode(wire.RESULT, id=1, image=big)
    assert data.endswith(big.data) and len(data) < 64 * 64 * 4 + 200   # the pixels as they are, after the header


def test_stream_of_messages_and_clean_end():
    stream = io.BytesIO(wire.encode(wire.HELLO, protocol=1) + wire.encode(wire.CANCEL, id=3))
    assert wire.read_message(stream).type == wire.HELLO
    assert wire.read_message(stream)["id"] == 3
    assert wire.read_message(stream) is None


def test_decoder_byte_by_byte():
    data = wire.encode(wire.PROGRESS, id=1, step=2, total=9, losses={"style": 1.5}, preview=image()) + \
        wire.encode(wire.ERROR, id=1, message="bad")
    decoder, got = Decoder(), []
    for i in range(len(data)):
        got += decoder.feed(data[i:i + 1])
    assert [m.type for m in got] == [wire.PROGRESS, wire.ERROR]
    assert got[0]["preview"] == image() and decoder.pending == 0


@pytest.mark.parametrize("cut", [2, 6, 12, -3])
def test_truncated_stream_is_a_clear_error(cut):
    data = wire.encode(wire.RESULT, id=1, image=image())
    with pytest.raises(ProtocolError, match="stream ended"):
        wire.read_message(io.BytesIO(data[:cut]))


def test_garbage_is_a_clear_error():
    with pytest.raises(ProtocolError, match="the backend's stdin carries something that is not a krita-nst message"):
        wire.read_message(io.BytesIO(b"Traceback (most recent call last):\n"), "the backend's stdin")
    with pytest.raises(ProtocolError, match="the backend's stdout carries something that is not a krita-nst"):
        Decoder("the backend's stdout").feed(b"hello world, this is not a frame")
    bad_json = wire.MAGIC + (5).to_bytes(4, "big") + b"{nope"
    with pytest.raises(ProtocolError, match="not valid JSON"):
        wire.read_message(io.BytesIO(bad_json))
    unknown = wire.MAGIC + (15).to_bytes(4, "big") + b'{"type":"boom"}'
    with pytest.raises(ProtocolError, match="no known type"):
        wire.read_message(io.BytesIO(unknown))


def test_image_size_must_match_its_bytes():
    with pytest.raises(ProtocolError, match="needs 24 bytes"):
        Image(3, 2, "BGRA8", b"\0" * 23)
    with pytest.raises(ProtocolError, match="at least one pixel"):
        Image(0, 2, "BGRA8", b"")
    forged = wire.encode(wire.RESULT, id=1, image=image()).replace(b'"width":3', b'"width":4')
    with pytest.raises(ProtocolError, match="needs 32 bytes"):
        wire.read_message(io.BytesIO(forged))


def test_an_invalid_image_is_a_bad_message_and_the_stream_stays_in_step():
    forged = wire.encode(wire.JOB, id=9, content=image()).replace(b'"width":3', b'"width":4')
    stream = io.BytesIO(forged + wire.encode(wire.CANCEL, id=9))
    with pytest.raises(wire.BadMessage, match="content: 4x2 BGRA8 needs 32 bytes, got 24") as caught:
        wire.read_message(stream)
    assert (caught.value.type, caught.value.id) == (wire.JOB, 9)
    assert wire.read_message(stream).type == wire.CANCEL


class Zeros(io.RawIOBase):
    """A header, then `size` zero bytes made on demand; remembers the biggest read."""

    def __init__(self, head, size, tail=b""):
        self.head, self.left, self.tail, self.biggest = head, size, tail, 0

    def read(self, n=-1):
        self.biggest = max(self.biggest, n)
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
            return out
        if self.left:
            k = min(n, self.left)
            self.left -= k
            return bytes(k)
        out, self.tail = self.tail[:n], self.tail[n:]
        return out


def test_an_oversized_image_is_refused_from_its_header_and_its_payload_skipped_in_chunks():
    side = 9000
    ref = {"$image": 0, "width": side, "height": side, "format": "BGRA8"}
    raw = json.dumps({"type": wire.JOB, "id": "big", "content": ref, "blobs": [side * side * 4]}).encode()
    stream = Zeros(wire.MAGIC + len(raw).to_bytes(4, "big") + raw, side * side * 4, wire.encode(wire.CANCEL, id=1))
    with pytest.raises(wire.BadMessage, match="9000x9000 px is more than the 64 megapixels") as caught:
        wire.read_message(stream)
    assert caught.value.id == "big" and stream.left == 0 and stream.biggest <= 1 << 20
    assert wire.read_message(stream).type == wire.CANCEL


def test_absurd_sizes_are_framing_errors_not_bad_messages():
    absurd = b'{"type":"job","blobs":[%d]}' % (wire.MAX_PAYLOAD + 1)
    for data in (wire.MAGIC + (wire.MAX_HEADER + 1).to_bytes(4, "big"),
                 wire.MAGIC + len(absurd).to_bytes(4, "big") + absurd):
        with pytest.raises(ProtocolError, match="too large") as caught:
            wire.read_message(io.BytesIO(data))
        assert not isinstance(caught.value, wire.BadMessage)


def test_decoder_reports_a_bad_message_in_step_and_keeps_the_others():
    bad = wire.encode(wire.JOB, id=2, content=image()).replace(b'"format":"BGRA8"', b'"format":"CMYK8"')
    data = wire.encode(wire.CANCEL, id=1) + bad + wire.encode(wire.CANCEL, id=3)
    decoder = Decoder()
    with pytest.raises(wire.BadMessage, match="unknown pixel format 'CMYK8'") as caught:
        decoder.feed(data)
    assert caught.value.id == 2
    assert [m["id"] for m in decoder.feed(b"")] == [1, 3] and decoder.pending == 0
    decoder = Decoder()  # the same, a byte at a time
    got, errors = [], []
    for i in range(len(data)):
        try:
            got += decoder.feed(data[i:i + 1])
        except wire.BadMessage as exc:
            errors.append(exc.id)
    assert [m["id"] for m in got] == [1, 3] and errors == [2] and decoder.pending == 0


def test_png_images_travel_with_their_declared_size_and_are_checked_from_the_header():
    png = Image(4, 3, "RGBA8", b"\x89PNG...", "png")
    back = wire.read_message(io.BytesIO(wire.encode(wire.JOB, id=1, content=png)))
    assert back["content"] == png and back["content"].encoding == "png"
    # A raw image's reference has no "encoding" key (raw is the default); a PNG's says "png".
    assert header_of(wire.encode(wire.JOB, id=1, content=image()))["content"] == {
        "$image": 0, "width": 3, "height": 2, "format": "BGRA8"}
    assert header_of(wire.encode(wire.JOB, id=1, content=png))["content"]["encoding"] == "png"
    with pytest.raises(ProtocolError, match="format is RGBA8"):
        Image(4, 3, "BGRA8", b"x", "png")
    with pytest.raises(ProtocolError, match="cannot be"):
        Image(4, 3, "RGBA8", b"x" * 10 ** 6, "png")
    with pytest.raises(ProtocolError, match="unknown image encoding"):
        Image(4, 3, "RGBA8", b"x", "jpeg")
