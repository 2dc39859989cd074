"""backend/server.py's faults: bad jobs and broken streams against the real backend process: a clear error,
and either keep serving (the frame was intact) or a clean exit (the framing itself is broken); never a hang."""

import json
import math
import struct

import pytest
import torch

from backend import images
from helpers import Backend, proc_status_mib, sample
from krita_nst.core import wire

QUICK = {"size": 96, "steps": 3, "preview_every": 100, "resolution": "working"}
SMALL_CONTENT = images.load_file(sample("chelsea.png"))
STYLE = images.load_file(sample("starry_night_google.jpg"))


def frame(type, **fields):
    """Like wire.encode, but JSON may carry NaN and Infinity (as a careless or hostile peer could send)."""
    blobs = []

    def lift(value):
        if isinstance(value, wire.Image):
            blobs.append(bytes(value.data))
            return {"$image": len(blobs) - 1, "width": value.width, "height": value.height, "format": value.format,
                    "encoding": value.encoding}
        if isinstance(value, dict):
            return {k: lift(v) for k, v in value.items()}
        if isinstance(value, list):
            return [lift(v) for v in value]
        return value

    header = dict(lift(fields), type=type, blobs=[len(b) for b in blobs])
    raw = json.dumps(header).encode()
    return wire.MAGIC + struct.pack(">I", len(raw)) + raw + b"".join(blobs)


def raw_job(job_id, content_ref, blob, style_ref=None, style_blob=b""):
    """A job frame with hand-written image references: what no well-behaved encoder produces."""
    styles = [{"image": STYLE, "weight": 1.0}] if style_ref is None else [{"image": style_ref, "weight": 1.0}]
    data = wire.encode(wire.JOB, id=job_id, content=SMALL_CONTENT, styles=styles, settings=QUICK)
    header = json.loads(data[8:8 + struct.unpack(">I", data[4:8])[0]])
    header["content"] = content_ref
    blobs = [blob] + ([bytes(STYLE.data)] if style_ref is None else [style_blob])
    if style_ref is not None:
        header["styles"][0]["image"] = dict(style_ref, **{"$image": 1})
    header["blobs"] = [len(b) for b in blobs]
    raw = json.dumps(header).encode()
    return wire.MAGIC + struct.pack(">I", len(raw)) + raw + b"".join(blobs)


def ref(width=4, height=4, format="BGRA8", index=0, **more):
    return dict({"$image": index, "width": width, "height": height, "format": format}, **more)


def clear(w, h):
    return wire.Image(w, h, "BGRA8", bytes(w * h * 4))


def job(**changes):
    fields = dict(content=SMALL_CONTENT, styles=[{"image": STYLE, "weight": 1.0}], settings=QUICK)
    fields.update(changes)
    return lambda job_id: frame(wire.JOB, id=job_id, **fields)


def settings(**changes):
    return job(settings=dict(QUICK, **changes))


def weights(*values):
    return job(styles=[{"image": STYLE, "weight": w} for w in values])


BAD_JOBS = {
    # settings
    "size NaN": (settings(size=math.nan), "size must be"),
    "strength NaN": (settings(strength=math.nan), "strength must be a finite number"),
    "strength inf": (settings(strength=math.inf), "strength must be a finite number"),
    "steps -inf": (settings(steps=-math.inf), "steps must be a whole number"),
    "steps text": (settings(steps="many"), "steps must be a whole number"),
    "size negative": (settings(size=-512), "size must be between"),
    "smoothness negative": (settings(smoothness=-1.0), "smoothness must be between"),
    "seed negative": (settings(seed=-1), "seed must be between"),
    "seed true": (settings(seed=True), "seed must be a whole number"),
    "unknown key": (settings(colour="blue"), "unknown setting(s): colour"),
    "size a list": (settings(size=[512]), "size must be a whole number"),
    "colours a list": (settings(preserve_colors=["none"]), "preserve_colors must be one of"),
    "settings a list": (job(settings=[1, 2]), "settings must be an object"),
    "settings text": (job(settings="fast"), "settings must be an object"),
    # content and styles
    "no content": (job(content=None), "the content image is missing or is not an image"),
    "content text": (job(content="a picture"), "content must be an image or null, not 'a picture'"),
    "content not an image": (job(content={"width": 4, "height": 4}), "content must be an image or null"),
    "content 1x1": (job(content=wire.Image(1, 1, "RGBA8", b"\x80\x80\x80\xff")), "too small to stylise"),
    "content transparent": (job(content=clear(32, 32)), "fully transparent"),
    "content a broken PNG": (job(content=wire.Image(32, 32, "RGBA8", b"\x89PNG broken", "png")),
                             "the content image cannot be read: it is not a readable PNG file"),
    "encoding unknown": (job(encoding="webp"), "encoding must be one of raw, png"),
    "styles an object": (job(styles={"image": STYLE}), "styles must be a list"),
    "styles text": (job(styles="starry night"), "styles must be a list"),
    "no styles": (job(styles=[]), "no style image given"),
    "style without image": (job(styles=[{"weight": 1.0}]), "style image 1 is missing or is not an image"),
    "style a bare image": (job(styles=[STYLE]), "style 1 must be an {image, weight} object"),
    "style unknown field": (job(styles=[{"image": STYLE, "wieght": 2}]), "style 1 has unknown field(s): wieght"),
    "style transparent": (job(styles=[{"image": clear(32, 32), "weight": 1.0}]), "style image 1 is fully transparent"),
    "weight NaN": (weights(math.nan), "style weight 1 must be a number >= 0"),
    "weight inf": (weights(1.0, math.inf), "style weight 2 must be a number >= 0"),
    "weight negative": (weights(-1.0), "style weight 1 must be a number >= 0"),
    "weight a list": (weights([1.0]), "styles[0].weight must be a number, not [1.0]"),
    "weights sum to 0": (weights(0.0, 0.0), "the style weights are all 0"),
    # image blobs that do not match their header (the frame itself is intact)
    "empty blob": (lambda i: raw_job(i, ref(), b""), "content: 4x4 BGRA8 needs 64 bytes, got 0"),
    "short blob": (lambda i: raw_job(i, ref(), bytes(63)), "content: 4x4 BGRA8 needs 64 bytes, got 63"),
    "long blob": (lambda i: raw_job(i, ref(), bytes(65)), "needs 64 bytes, got 65"),
    "unknown format": (lambda i: raw_job(i, ref(format="CMYK8"), bytes(64)), "unknown pixel format 'CMYK8'"),
    "PNG declared BGRA8": (lambda i: raw_job(i, ref(encoding="png"), bytes(64)), "a PNG image's format is RGBA8"),
    "width 0": (lambda i: raw_job(i, ref(width=0), b""), "an image needs at least one pixel, got 0x4"),
    "height negative": (lambda i: raw_job(i, ref(height=-4), b""), "at least one pixel"),
    "width text": (lambda i: raw_job(i, ref(width="4"), bytes(64)), "width and height must be whole numbers"),
    "width fractional": (lambda i: raw_job(i, ref(width=4.5), bytes(72)), "must be whole numbers"),
    "no such blob": (lambda i: raw_job(i, ref(index=7), bytes(64)), "content: bad image reference"),
    "bad style blob": (lambda i: raw_job(i, ref(), bytes(64), ref(8, 8), bytes(10)),
                       "styles[0].image: 8x8 BGRA8 needs 256 bytes, got 10"),
}


@pytest.fixture(scope="module")
def shared():
    """One backend for every bad job: it has to survive them all."""
    b = Backend()
    assert b.read().type == wire.HELLO
    yield b
    b.close()


def test_an_oversized_image_is_refused_from_its_header_without_holding_its_pixels(shared):
    side = 9000
    size = side * side * 4  # 324 MB, under MAX_PAYLOAD: a framing-valid but refused job
    prefix_and_header = _header_only({"type": "job", "id": "huge", "content": ref(side, side), "styles": [],
                                      "settings": {}, "blobs": [size]})
    with open("/proc/%d/clear_refs" % shared.proc.pid, "w") as f:
        f.write("5")  # restart the backend's VmHWM from its resident size now
    before = proc_status_mib(shared.proc.pid, "VmRSS")
    shared.write(prefix_and_header)
    chunk = bytes(1 << 22)
    for _ in range(size // len(chunk)):
        shared.proc.stdin.write(chunk)
    shared.write(bytes(size % len(chunk)))
    error = shared.until({wire.ERROR, wire.RESULT}, timeout=60)[-1]
    assert error.type == wire.ERROR and error["id"] == "huge"
    assert "9000x9000 px is more than the 64 megapixels" in error["message"]
    grew = proc_status_mib(shared.proc.pid, "VmHWM") - before
    assert grew < 64, "the backend's peak grew by %.0f MiB reading a refused image" % grew


@pytest.mark.parametrize("case", list(BAD_JOBS))
def test_a_bad_job_gets_a_clear_error_and_the_backend_keeps_serving(shared, case):
    make, expected = BAD_JOBS[case]
    job_id = "bad: " + case
    shared.write(make(job_id))
    messages = shared.until({wire.ERROR, wire.RESULT, wire.CANCELLED}, timeout=60)
    error = messages[-1]
    assert error.type == wire.ERROR and error["id"] == job_id, messages
    assert expected in error["message"], error["message"]
    assert "the backend failed" not in error["message"]  # a clear refusal, not a crash caught late
    assert shared.proc.poll() is None


def test_a_good_job_after_all_the_bad_ones(shared):
    """Every bad job first, here (not only in the tests before: alone, this test would prove nothing), then
    a good one on the same backend."""
    for case, (make, expected) in BAD_JOBS.items():
        shared.write(make("again: " + case))
        error = shared.until({wire.ERROR, wire.RESULT, wire.CANCELLED}, timeout=60)[-1]
        assert error.type == wire.ERROR and error["id"] == "again: " + case and expected in error["message"], error
    content = wire.Image(SMALL_CONTENT.width, SMALL_CONTENT.height, "RGBA8", SMALL_CONTENT.data)
    shared.send(wire.JOB, id="good", content=content, styles=[{"image": STYLE, "weight": 1.0}], settings=QUICK)
    result = shared.until({wire.RESULT, wire.ERROR}, timeout=120)[-1]
    assert result.type == wire.RESULT and result["id"] == "good", result
    assert (result["image"].width, result["image"].height) == (content.width, content.height)


def test_bad_input_is_an_error_and_the_backend_keeps_serving(backend):
    assert backend.read().type == wire.HELLO
    content = wire.Image(SMALL_CONTENT.width, SMALL_CONTENT.height, "RGBA8", SMALL_CONTENT.data)
    styles = [{"image": STYLE, "weight": 1.0}]
    clear = wire.Image(4, 4, "BGRA8", bytes(64))
    backend.send(wire.JOB, id=1, content=clear, styles=styles, settings=QUICK)
    error = backend.until({wire.ERROR, wire.RESULT})[-1]
    assert error.type == wire.ERROR and "transparent" in error["message"]
    backend.send(wire.JOB, id=2, content=content, styles=styles, settings={"size": 3})
    error = backend.until({wire.ERROR, wire.RESULT})[-1]
    assert error.type == wire.ERROR and "size must be between" in error["message"]
    backend.send(wire.JOB, id=3, content=content, styles=[], settings=QUICK)
    assert "no style" in backend.until({wire.ERROR})[-1]["message"]
    style = styles[0]["image"]
    for weights, expected in (([1.0, "lots"], "styles[1].weight must be a number"),
                              ([0.0, 0.0], "all 0")):
        bad = [{"image": style, "weight": w} for w in weights]
        backend.send(wire.JOB, id=5, content=content, styles=bad, settings=QUICK)
        assert expected in backend.until({wire.ERROR})[-1]["message"]
    backend.send(wire.JOB, id=4, content=content, styles=styles, settings=QUICK)
    assert backend.until({wire.RESULT, wire.ERROR})[-1].type == wire.RESULT


def test_garbage_on_stdin_gives_a_clear_error_then_exit(backend):
    assert backend.read().type == wire.HELLO
    backend.proc.stdin.write(b"this is not a frame at all\n")
    backend.proc.stdin.flush()
    error = backend.read()
    assert error.type == wire.ERROR and "garbled" in error["message"]
    assert "the backend's stdin" in error["message"] and "stdout" not in error["message"], error["message"]
    assert backend.proc.wait(timeout=30) == 0


def _header_only(header):
    raw = json.dumps(header).encode()
    return wire.MAGIC + struct.pack(">I", len(raw)) + raw


def _good_frame():
    return wire.encode(wire.JOB, id=1, content=clear(8, 8), styles=[{"image": clear(8, 8), "weight": 1}])


BROKEN_STREAMS = {
    "cut in the prefix": (lambda: _good_frame()[:6], True, "stream ended inside a message's prefix"),
    "cut in the header": (lambda: _good_frame()[:30], True, "stream ended inside a message's header"),
    "cut in the payload": (lambda: _good_frame()[:-10], True, "stream ended inside a message's payload"),
    "header too large": (lambda: wire.MAGIC + struct.pack(">I", wire.MAX_HEADER + 1), False,
                         "message header of %d bytes is too large" % (wire.MAX_HEADER + 1)),
    "payload too large": (lambda: _header_only({"type": "job", "id": 1, "blobs": [wire.MAX_PAYLOAD + 1]}), False,
                          "payload of %d bytes is too large" % (wire.MAX_PAYLOAD + 1)),
    "header not JSON": (lambda: wire.MAGIC + struct.pack(">I", 6) + b"{job: ", False, "not valid JSON"),
}


@pytest.mark.parametrize("case", list(BROKEN_STREAMS))
def test_broken_framing_is_a_clear_error_and_a_clean_exit(case):
    make, then_close, expected = BROKEN_STREAMS[case]
    data = make()
    backend = Backend()
    try:
        assert backend.read().type == wire.HELLO
        backend.write(data)
        if then_close:  # the rest never comes
            backend.proc.stdin.close()
        error = backend.read(timeout=30)
        assert error.type == wire.ERROR and error["id"] is None
        assert "garbled" in error["message"] and expected in error["message"], error["message"]
        assert backend.proc.wait(timeout=30) == 0
    finally:
        backend.close()


class Recorder:
    def __init__(self):
        self.sent = []

    def send(self, type, **fields):
        self.sent.append((type, fields))


@pytest.mark.parametrize("where, exc", [
    ("mps", RuntimeError("MPS backend out of memory (MPS allocated: 17.01 GB, other allocations: 1.20 GB, "
                         "max allowed: 18.13 GB). Tried to allocate 1.50 GB on private pool.")),
    ("cuda", torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")),
])
def test_out_of_memory_on_any_device_is_advice_and_the_memory_is_released(monkeypatch, where, exc):
    """MPS says it in a plain RuntimeError: the same advice as CUDA's OutOfMemoryError, not "the backend failed"."""
    from backend import jobs, server
    released = []
    monkeypatch.setattr(getattr(torch, where), "empty_cache", lambda: released.append(where))
    monkeypatch.setattr(jobs, "run", lambda *a, **k: (_ for _ in ()).throw(exc))
    monkeypatch.setattr(server.device, "MemoryMeter", lambda runtime: None)
    runtime = server.device.Runtime(torch.device(where), torch.float32, False)
    message = wire.Message(wire.JOB, {"id": 7, "content": SMALL_CONTENT, "styles": [], "settings": {}})
    writer = Recorder()
    server._run_job(message, None, runtime, server.Inbox(None, writer), writer, None)
    (type, fields), = writer.sent
    assert type == wire.ERROR and fields["id"] == 7, writer.sent
    assert fields["message"] == "not enough memory for this job on %s; lower the size setting" % where
    assert "Tried to allocate" in fields["detail"] and released == [where]
