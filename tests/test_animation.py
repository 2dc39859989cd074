"""Animation: the frame plan (krita_nst/animation_plan.py), the coherent loop (backend/animation.py) on a real
clip and VGG19, and an animate job through the real backend process (a frame message each, cancel keeps them)."""

import pytest
import torch

from backend import animation, flow, images
from backend.errors import InputError
from helpers import sample
from krita_nst.animation_plan import Frame, of_sequence, plan
from krita_nst.core import wire

QUICK = {"size": 96, "steps": 20, "preview_every": 1000, "resolution": "working"}


def test_a_held_keyframe_is_one_frame_and_a_blank_one_stays_blank():
    keys = [(0, False), (1, False), (4, False), (6, True), (7, False), (12, False)]   # 1 holds over 1..3
    assert plan(keys, 0, 10) == [Frame(0, 0, False), Frame(1, 3, False), Frame(4, 5, False), Frame(6, 6, True),
                                 Frame(7, 10, False)]   # 12 is after the range
    assert plan(keys, 2, 5) == [Frame(1, 3, False), Frame(4, 5, False)]   # the one showing at 2 keeps its time
    assert plan(reversed(keys), 0, 10) == plan(keys, 0, 10)
    assert plan([(3, False)], 0, 5) == [Frame(3, 5, False)]              # nothing shows before 3
    assert plan([], 0, 5) == [] and plan([(9, False)], 0, 5) == []
    with pytest.raises(ValueError, match="after its end"):
        plan(keys, 5, 2)
    files = [b"a", b"a", b"b", b"", b"", b"a"]
    assert of_sequence(files, [f == b"" for f in files]) == [Frame(0, 1, False), Frame(2, 2, False),
                                                             Frame(3, 4, True), Frame(5, 5, False)]


def clip(count=3, shift=6):
    """A camera panning right over a real photo, `shift` px a frame: frame t+1(p) = frame t(p + (shift, 0))."""
    c = images.from_wire(images.load_file(sample("chelsea.png")))[0]
    return [c[..., 100:196, 40 + t * shift:168 + t * shift] for t in range(count)]


def style():
    return images.from_wire(images.load_file(sample("starry_night_google.jpg")))[0]


def results(vgg, runtime, frames, **settings):
    done = {}
    for index, progress in animation.stylize(vgg, runtime, frames, [(style(), 1.0)], dict(QUICK, **settings)):
        if progress.done:
            done[index] = progress
    return done


def moved_difference(a, b, shift):
    """Mean |b - a moved by the pan| away from the borders: flicker."""
    return float((b[..., 8:-8, 8:-8 - shift] - a[..., 8:-8, 8 + shift:-8]).abs().mean())


def test_each_frame_follows_the_one_before_and_runs_fewer_steps(vgg, runtime):
    frames = clip()
    coherent = results(vgg, runtime, frames, temporal=100)
    independent = results(vgg, runtime, frames, temporal=0)
    assert sorted(coherent) == sorted(independent) == [0, 1, 2]
    assert coherent[0].step == independent[0].step
    assert coherent[1].step < independent[1].step and coherent[2].step == coherent[1].step   # fewer steps
    assert "temporal" in coherent[1].losses and "temporal" not in independent[1].losses
    for t in (1, 2):
        a, b = coherent[t - 1].image, coherent[t].image
        ia, ib = independent[t - 1].image, independent[t].image
        assert moved_difference(a, b, 6) < 0.6 * moved_difference(ia, ib, 6), t


def test_an_empty_frame_is_skipped_and_the_next_starts_cold(vgg, runtime):
    frames = clip()
    done = results(vgg, runtime, [frames[0], None, frames[2]], temporal=100)
    assert sorted(done) == [0, 2] and done[2].step == done[0].step and "temporal" not in done[2].losses


def test_bad_frames_are_named(vgg, runtime):
    frames = clip()
    with pytest.raises(InputError, match="frame 3 is 50x96 px, frame 1 is 128x96"):
        results(vgg, runtime, [frames[0], frames[1], frames[2][..., :50]])
    with pytest.raises(InputError, match="no frame"):
        results(vgg, runtime, [None, None])
    tiny = [f[..., :12, :12] for f in frames]
    with pytest.raises(InputError, match="frame 1 of 3: the content is too small"):
        results(vgg, runtime, tiny)


def wire_frames(count):
    return [images.to_wire(f, None, "RGBA8") for f in clip(count)]


def test_an_animate_job_streams_each_frame_and_a_cancel_keeps_those_done(backend):
    assert backend.read().type == wire.HELLO
    styles = [{"image": images.load_file(sample("starry_night_google.jpg")), "weight": 1.0}]
    frames = wire_frames(4)
    backend.send(wire.ANIMATE, id=1, frames=frames, styles=styles, settings=dict(QUICK, steps=8))
    messages = backend.until({wire.RESULT, wire.ERROR, wire.CANCELLED}, timeout=300)
    assert messages[-1].type == wire.RESULT and messages[-1]["frames"] == 4, messages[-1]
    done = [m for m in messages if m.type == wire.FRAME]
    assert [m["frame"] for m in done] == [0, 1, 2, 3] and {m["frames"] for m in done} == {4}
    assert all((m["image"].width, m["image"].height) == (128, 96) for m in done)
    steps = [m for m in messages if m.type == wire.PROGRESS]
    assert {m["frame"] for m in steps} == {0, 1, 2, 3} and all(m.get("preview") is None for m in steps)
    # Frame by frame as each is done: a frame's message comes before the next frame's first step.
    order = [("frame", m["frame"]) if m.type == wire.FRAME else ("step", m["frame"]) for m in messages[:-1]]
    assert order.index(("frame", 0)) < order.index(("step", 1))

    backend.send(wire.ANIMATE, id=2, frames=frames, styles=styles, settings=dict(QUICK, steps=400))
    kept = []
    while True:
        message = backend.read(timeout=300)
        assert message.type in (wire.PROGRESS, wire.FRAME, wire.CANCELLED), message
        if message.type == wire.FRAME:
            kept.append(message["frame"])
            if message["frame"] == 1:
                backend.send(wire.CANCEL, id=2)
        if message.type == wire.CANCELLED:
            break
    assert kept == [0, 1] and message["frames"] == 2 and message["id"] == 2


def test_a_bad_animate_job_is_answered_and_the_backend_goes_on(backend):
    assert backend.read().type == wire.HELLO
    styles = [{"image": images.load_file(sample("starry_night_google.jpg")), "weight": 1.0}]
    frames = wire_frames(2)
    for job_id, fields, expected in [(1, dict(frames=[]), "frames must be a list"),
                                     (2, dict(frames=[frames[0], "x"]), "frames[1] must be an image or null"),
                                     (3, dict(frames=[frames[0], None], settings={"temporal": -1}),
                                      "temporal must be between")]:
        backend.send(wire.ANIMATE, id=job_id, styles=styles, **dict(dict(settings=QUICK), **fields))
        answer = backend.until({wire.RESULT, wire.ERROR, wire.CANCELLED})[-1]
        assert answer.type == wire.ERROR and answer["id"] == job_id and expected in answer["message"], answer
    backend.send(wire.ANIMATE, id=4, frames=[frames[0], None], styles=styles, settings=dict(QUICK, steps=2))
    answer = backend.until({wire.RESULT, wire.ERROR})[-1]
    assert answer.type == wire.RESULT and answer["frames"] == 1, answer


def test_the_warped_start_is_the_previous_result_moved(vgg, runtime):
    """What a following frame starts from: the previous result moved by the flow between the content frames."""
    a, b = clip(2)
    painted = torch.rand(1, 3, 12, 16, generator=torch.Generator().manual_seed(0))
    result = images.resize(painted, *a.shape[-2:])
    start, mask = flow.between(a, b, result)
    assert moved_difference(result, start, 6) < 0.02 and mask[..., 8:-8, 8:-14].mean() > 0.95


def test_the_clis_help_prints_for_animate_and_stylize():
    """Every setting's help goes through argparse's % formatting: a '100 %' in one must not break --help."""
    import subprocess
    import sys
    for command in ("animate", "stylize"):
        done = subprocess.run([sys.executable, "-m", "backend", command, "--help"], capture_output=True, text=True)
        assert done.returncode == 0 and "--temporal" in done.stdout, done.stderr[-500:]


def test_a_cancel_during_the_only_frame_is_cancelled_not_a_result_of_no_frames(monkeypatch):
    """backend/animation_job.run against a stopped run: the frames done are compared with the frames that
    have pixels (an empty frame is never done), so one frame cancelled mid-way answers `cancelled`."""
    from backend import animation_job, device

    class Writer:
        def __init__(self):
            self.sent = []

        def send(self, kind, **fields):
            self.sent.append((kind, fields))

    def stopped(*_args, **_kwargs):   # cancelled before its frame's done Progress
        return iter(())
    monkeypatch.setattr(animation, "run", stopped)
    monkeypatch.setattr(device, "MemoryMeter", lambda _runtime: type("Meter", (), {"peak_mib": None})())
    style = {"image": images.load_file(sample("starry_night_google.jpg")), "weight": 1.0}
    for frames in ([wire_frames(1)[0]], [wire_frames(1)[0], None]):
        writer = Writer()
        message = wire.Message(wire.ANIMATE, {"id": 5, "frames": frames, "styles": [style], "settings": QUICK})
        animation_job.run(message, None, None, lambda: True, writer)
        assert [kind for kind, _ in writer.sent] == [wire.CANCELLED] and writer.sent[0][1]["frames"] == 0, writer.sent
