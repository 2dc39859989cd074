"""Every header field of every message type, given a value of another kind, sent to one warm backend (a real
`python -m backend serve`): that message fails with an error (or is served, when the value happens to be a good
one), never a crash caught late, and the backend keeps serving the next message.

The frames are well formed (the blob lengths match the payload): only the header's content is wrong, as from a
buggy or hostile peer.  Property-based with Hypothesis: explicit examples of each JSON kind for every field, then
generated JSON values (nested lists and objects, NaN, huge integers, text).
"""

import json
import math
import random
import struct

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from helpers import Backend
from krita_nst.core import kinds, wire

# the smallest job the backend runs: keep the test quick
QUICK = {"size": 64, "steps": 1, "preview_every": 100, "resolution": "working"}


def noise(side, seed):
    pixels = bytearray(random.Random(seed).randbytes(side * side * 4))
    pixels[3::4] = b"\xff" * (side * side)   # opaque
    return wire.Image(side, side, "BGRA8", bytes(pixels))


CONTENT, STYLE, PREVIEW = noise(16, 1), noise(16, 2), noise(2, 3)
# One good message of each type, with every field its comment in wire.py names (kinds.FIELDS: their kinds).
GOOD = {
    wire.JOB: dict(id="j", content=CONTENT, styles=[{"image": STYLE, "weight": 1.0}], settings=QUICK,
                   encoding=wire.RAW, key="layer"),
    wire.ANIMATE: dict(id="a", frames=[CONTENT, None], styles=[{"image": STYLE, "weight": 1.0}], settings=QUICK,
                       encoding=wire.RAW),
    wire.CANCEL: dict(id="j"),
    wire.PING: dict(),
    wire.HELLO: dict(protocol=wire.PROTOCOL_VERSION, settings_schema="x", backend_version="1", torch_version="2",
                     device="cpu"),
    wire.PROGRESS: dict(id="j", step=1, total=2, losses={"style": 1.0}, stage="64 px", seconds=0.5, preview=PREVIEW,
                        note="n", warm=False, frame=0, frames=2, fraction=0.5),
    wire.RESULT: dict(id="j", image=PREVIEW, seconds=1.0, steps=2, losses={"style": 1.0}, peak_memory_mib=3.0,
                      warm=True, frames=2, full_resolution=False),
    wire.FRAME: dict(id="a", frame=0, frames=2, image=PREVIEW, seconds=1.0, steps=1, losses={"style": 1.0}),
    wire.CANCELLED: dict(id="j", step=1, frames=1),
    wire.ERROR: dict(id="j", message="m", detail="d"),
}
assert set(GOOD) == set(wire.TYPES)


def _lifted(type):
    """The good message's header (images as references) and its blobs, as wire.encode frames them."""
    data = wire.encode(type, **GOOD[type])
    length = struct.unpack(">I", data[4:8])[0]
    return json.loads(data[8:8 + length]), data[8 + length:]


def _paths(value, path=()):
    """Every field, nested ones too (an image reference's format, a style's weight, one setting)."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        if path == () and key in ("type", "blobs"):   # the framing: its faults are test_server_faults.py's
            continue
        yield path + (key,)
        yield from _paths(child, path + (key,))


assert set(kinds.FIELDS) == set(wire.TYPES)
FIELDS = [(type, path) for type in wire.TYPES for path in _paths(_lifted(type)[0])] + [(wire.PING, ("extra",))]

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=6)


def _replaced(header, path, value):
    header = json.loads(json.dumps(header))
    target = header
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return header


def _frame(header, payload):
    raw = json.dumps(header).encode()   # NaN and Infinity allowed: a careless peer's JSON
    return wire.MAGIC + struct.pack(">I", len(raw)) + raw + payload


@pytest.fixture(scope="module")
def warm():
    b = Backend()
    assert b.read().type == wire.HELLO
    b.probes = 0
    yield b
    b.close()


def _probe(backend):
    """A job the reader refuses from its header (an image with no blob): its answer proves the reader still
    serves, and that every answer to what was sent before it has come."""
    backend.probes += 1
    probe_id = "probe %d" % backend.probes
    backend.write(_frame({"type": wire.JOB, "id": probe_id, "content": {"$image": 0}, "blobs": []}, b""))
    return probe_id


def _answers(backend, until):
    seen = []
    while not (seen and until(seen[-1])):
        seen += backend.until({wire.ERROR, wire.RESULT, wire.CANCELLED}, timeout=60)
    return seen


@pytest.mark.parametrize("type, path", FIELDS, ids=["%s.%s" % (t, ".".join(map(str, p))) for t, p in FIELDS])
@settings(max_examples=4, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON)
@example(value=["a list"])            # the two crashes: a list as a job's id, as an image's format
@example(value={"an": "object"})
@example(value=math.nan)
@example(value=True)
@example(value="text")
@example(value=-(2 ** 70))
def test_a_field_of_another_kind_fails_that_message_and_the_backend_keeps_serving(warm, type, path, value):
    header, payload = _lifted(type)
    good = header
    for key in path:
        good = good[key] if isinstance(good, (dict, list)) and key in (good if isinstance(good, dict) else
                                                                          range(len(good))) else None
    assume(kinds.kind(value) != kinds.kind(good))   # another kind (of the same kind: the value checks' tests)
    assume(not (path == ("settings",) and value is None))   # null: the default settings, a run too long for here
    header = _replaced(header, path, value)
    warm.write(_frame(header, payload))
    replies = []
    runs = type in (wire.JOB, wire.ANIMATE)
    if runs:   # its answer comes from the job loop (the main thread), or from the reader if refused
        replies = _answers(warm, lambda m: True)
    probe_id = _probe(warm)
    replies += _answers(warm, lambda m: m.get("id") == probe_id)[:-1]
    assert warm.proc.poll() is None, warm.log()
    ends = [m for m in replies if m.type in (wire.RESULT, wire.ERROR, wire.CANCELLED)]
    for message in ends:
        assert "the backend failed" not in (message.get("message") or ""), (header, message.fields)
    if runs:   # exactly one answer, for the job's id when it is one
        assert len(ends) == 1, (header, replies)
        expected_id = header.get("id") if kinds.is_id(header.get("id")) else None
        assert ends[0].get("id") == expected_id, (header, ends[0].fields)
    else:   # the plugin's messages are not the backend's to get; a cancel or ping has no answer
        assert all(m.type == wire.ERROR and m.get("id") is None for m in replies), (header, replies)
        assert len(replies) <= 1 and (replies or type in (wire.CANCEL, wire.PING)), (header, replies)


def test_a_good_job_after_all_of_them(warm):
    warm.send(wire.JOB, **GOOD[wire.JOB])
    result = warm.until({wire.RESULT, wire.ERROR}, timeout=60)[-1]
    assert result.type == wire.RESULT and result["id"] == "j", result
