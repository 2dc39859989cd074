"""Stylize Animation on the plugin side, against the fake Krita with animation (fake_krita_animation.py):
the frame plan from an animated layer's keyframes, the animated result layer, AnimationJob's ending and
messages, api.stylize_animation's refusals and what it submits, and the docker's progress text."""

import fake_krita_animation
import pytest

import fake_krita  # installs itself as `krita`: first
from krita_nst import animation, api, docker
from krita_nst.animation_job import AnimationJob
from krita_nst.animation_plan import Frame
from krita_nst.controller import Busy
from krita_nst.core import wire
from krita_nst.core.wire import Image
from krita_nst.layers import LayerError

krita = fake_krita.krita   # the fixture
W, H = 8, 6
KEYS = {0: (10, 0, 0, 255), 1: (20, 0, 0, 255), 4: (40, 0, 0, 255), 6: (60, 0, 0, 255), 8: None}   # 8: blank


def animated_layer(krita, doc, name="Content", keys=KEYS):
    """An animated layer made as an artist makes one: active, the playhead at each time, add_blank_frame."""
    fake_krita_animation.install_actions(krita)
    node = doc.add_layer(name)
    node.enableAnimation()
    doc.setActiveNode(node)
    for t, colour in keys.items():
        doc.setCurrentTime(t)
        krita.action("add_blank_frame").trigger()
        if colour is not None:
            node.fill(0, 0, W, H, colour)
    return node


@pytest.fixture
def scene(krita):
    doc = krita.open(W, H)
    doc.setPlayBackRange(0, 9)
    content = animated_layer(krita, doc)
    doc.setCurrentTime(2)   # where the artist left the playhead: the keyframe at 1, held
    return doc, content


def colour_at(node, t):
    return bytes(node.pixelDataAtTime(0, 0, 1, 1, t))


def test_the_plan_is_one_frame_per_keyframe_held_as_it_is_read_without_moving_the_playhead(scene):
    doc, content = scene
    switches = doc.switches
    plan, frames = animation.frame_plan(doc, content)
    assert plan == [Frame(0, 0, False), Frame(1, 3, False), Frame(4, 5, False), Frame(6, 7, False), Frame(8, 9, True)]
    assert [f.data[:4] if f is not None else None for f in frames] == [bytes(KEYS[t]) for t in (0, 1, 4, 6)] + [None]
    assert doc.currentTime() == 2 and doc.switches == switches, "reading moved the playhead"
    doc.setPlayBackRange(2, 5)   # the keyframe showing at 2 begins at 1: it keeps its time
    assert animation.frame_plan(doc, content)[0] == [Frame(1, 3, False), Frame(4, 5, False)]
    doc.setPlayBackRange(8, 9)
    with pytest.raises(LayerError, match="no drawn keyframe between frames 8 and 9"):
        animation.frame_plan(doc, content)


def test_the_result_layer_has_the_contents_keyframes_and_writes_each_frame_at_its_time(scene):
    doc, content = scene
    plan, _ = animation.frame_plan(doc, content)
    layer = animation.AnimatedResultLayer(doc, content, "Content \u00d7 Style", plan)
    assert [n.name() for n in doc.rootNode().childNodes()] == ["Content", "Content \u00d7 Style"]
    assert [t for t in range(12) if layer.node.hasKeyframeAtTime(t)] == [0, 1, 4, 6, 8]
    assert all(colour_at(layer.node, t) == bytes(4) for t in (0, 1, 4, 6, 8)), "nothing shows before it is done"
    assert doc.currentTime() == 2
    for index in range(4):
        layer.write_frame(index, Image(W, H, "BGRA8", bytes((index, 99, 0, 255)) * (W * H)))
        assert doc.currentTime() == 2, "the playhead goes back where the artist left it"
    assert [colour_at(layer.node, t) for t in (0, 1, 4, 6, 8)] == [bytes((i, 99, 0, 255)) for i in range(4)] + \
        [bytes(4)]
    assert [colour_at(content, t) for t in (0, 1, 4, 6)] == [bytes(KEYS[t]) for t in (0, 1, 4, 6)], "content written"
    doc.setCurrentTime(3)   # the held keyframe shows its stylised frame
    assert bytes(layer.node.pixelData(0, 0, 1, 1)) == bytes((1, 99, 0, 255))


def test_a_layer_that_is_not_animated_is_refused_with_stylize_layer_offered(krita, app, monkeypatch):
    monkeypatch.setattr(api, "_controller", None)
    doc = krita.open(W, H)
    still = doc.add_layer("Still", (1, 2, 3, 255))
    style = doc.add_layer("Style", (200, 100, 0, 255))
    with pytest.raises(LayerError, match="Layer \u201cStill\u201d is not animated: use \u201cStylize Layer\u201d"):
        api.stylize_animation(doc, still, [style])
    assert len(doc.rootNode().childNodes()) == 2


class StandIn:
    def __init__(self, job=None):
        self.job, self.submitted = job, []

    def current_job(self):
        return self.job

    def backend(self):
        pass

    def submit_animation(self, frames, images, job_settings, target, name):
        self.submitted.append((frames, images, job_settings, target, name))
        return "a job"


def test_stylize_animation_sends_each_keyframe_once_and_the_blank_one_as_none(scene, app, monkeypatch):
    doc, content = scene
    style = doc.add_layer("Style", (200, 100, 0, 255))
    monkeypatch.setattr(api, "_controller", StandIn())
    assert api.stylize_animation(doc, content, [style], temporal=0) == "a job"
    [(frames, images, job_settings, target, name)] = api._controller.submitted
    assert [f is None for f in frames] == [False] * 4 + [True] and len(images) == 1
    assert job_settings["temporal"] == 0 and name == "Content \u00d7 Style" and target.node.name() == name
    monkeypatch.setattr(api, "_controller", StandIn(job=type("Running", (), {"name": "X"})()))
    with pytest.raises(Busy, match="Already stylising X"):
        api.stylize_animation(doc, content, [style])


def job_on(scene, count=4):
    doc, content = scene
    plan, _ = animation.frame_plan(doc, content)
    layer = animation.AnimatedResultLayer(doc, content, "Content \u00d7 Style", plan)
    sent = []
    job = AnimationJob(7, layer, layer.name, sent.append)
    seen = {"failed": [], "cancelled": 0, "ended": 0, "progress": []}
    job.failed.connect(seen["failed"].append)
    job.cancelled.connect(lambda: seen.__setitem__("cancelled", seen["cancelled"] + 1))
    job.ended.connect(lambda: seen.__setitem__("ended", seen["ended"] + 1))
    job.progress.connect(lambda step, total, info: seen["progress"].append(info))
    return job, layer, sent, seen


def frame(index):
    return wire.Message(wire.FRAME, {"id": 7, "frame": index, "frames": 5,
                                     "image": Image(W, H, "BGRA8", bytes((index, 50, 0, 255)) * (W * H))})


def test_cancel_after_frame_2_keeps_two_frames_and_marks_the_layer(scene, app):
    job, layer, sent, seen = job_on(scene)
    for index in (0, 1):
        job.handle(wire.Message(wire.PROGRESS, {"id": 7, "step": 3, "total": 6}))
        job.handle(frame(index))
    assert seen["progress"][-1]["text"].startswith("frame 2 of 4, about ")
    assert seen["progress"][-1]["fraction"] == pytest.approx((1 + 0.5) / 4)
    job.cancel()
    assert sent == [7]
    job.handle(wire.Message(wire.CANCELLED, {"id": 7, "step": 9, "frames": 2}))
    assert job.state == "cancelled" and seen["cancelled"] == seen["ended"] == 1
    assert layer.node.name() == "Content \u00d7 Style [cancelled 2 of 4 frames]"
    assert [colour_at(layer.node, t)[:2] for t in (0, 1)] == [bytes((0, 50)), bytes((1, 50))]
    assert colour_at(layer.node, 4) == colour_at(layer.node, 6) == bytes(4), "frames not done stay blank"
    job.handle(frame(2))
    assert colour_at(layer.node, 4) == bytes(4), "an ended job never writes again"


def test_a_failed_frame_names_the_frame_on_the_timeline(scene, app):
    job, layer, _, seen = job_on(scene)
    job.handle(frame(0))
    job.handle(wire.Message(wire.ERROR, {"id": 7, "message": "frame 3 of 5: the content is too small"}))
    assert seen["failed"] == ["Frame 4 (keyframe 3 of 5): the content is too small"]
    assert job.state == "failed" and layer.node.name() == "Content \u00d7 Style [partial 1 of 4 frames]"
    job, layer, _, seen = job_on(scene)
    job.handle(wire.Message(wire.ERROR, {"id": 7, "message": "out of memory"}))
    assert seen["failed"] == ["out of memory"] and layer.node.parentNode() is None, "nothing done: no layer left"


def test_the_docker_shows_the_animations_own_progress_text():
    assert docker.progress_text(3, 6, {"text": "frame 7 of 24, about 2 min left", "fraction": 0.27}, None) \
        == "Frame 7 of 24, about 2 min left"
    assert docker.progress_text(3, 6, {}, None) == "Step 3 of 6"


class Client:
    """What Controller.submit_animation uses of the backend client: its transfer encoding and send."""
    backend = type("Where", (), {"transfer": wire.RAW})()

    def __init__(self):
        self.sent = []

    def send(self, kind, **fields):
        self.sent.append((kind, fields))


def test_the_controller_sends_one_animate_and_routes_its_frames_to_the_job(scene, controller, monkeypatch):
    doc, content = scene
    plan, frames = animation.frame_plan(doc, content)
    layer = animation.AnimatedResultLayer(doc, content, "Content \u00d7 Style", plan)
    client, started = Client(), []
    monkeypatch.setattr(controller, "backend", lambda: client)
    controller.job_started.connect(started.append)
    style = {"image": Image(2, 2, "BGRA8", bytes(16)), "weight": 1.0}
    job = controller.submit_animation(frames, [style], {"steps": 5, "temporal": 50}, layer, layer.name)
    [(kind, fields)] = client.sent
    assert kind == wire.ANIMATE and fields["id"] == job.id and fields["encoding"] == wire.RAW
    assert [f is None for f in fields["frames"]] == [False] * 4 + [True] and fields["settings"]["temporal"] == 50
    assert started == [job] and controller.current_job() is job and controller.busy()
    controller._dispatch(wire.Message(wire.FRAME, dict(frame(1).fields, id=job.id)))
    assert colour_at(layer.node, 1)[:2] == bytes((1, 50)) and job.done == 1
    with pytest.raises(Busy):   # one job at a time: the second target is discarded
        second = animation.AnimatedResultLayer(doc, content, "second", plan)
        controller.submit_animation(frames, [style], {}, second, "second")
    assert "second" not in [n.name() for n in doc.rootNode().childNodes()]
    controller._dispatch(wire.Message(wire.RESULT, {"id": job.id, "frames": 4, "peak_memory_mib": 12.5}))
    assert job.state == "done" and job.peak_memory_mib == 12.5 and not controller.busy()
