"""krita_nst/live.py against the fake Krita and a stand-in controller: when live mode sends an update,
cancels one, refines after new settings, and what it leaves when it stops."""

import functools

import pytest

import fake_krita  # installs itself as `krita`: first
from helpers import spin
from krita_nst import live, request
from krita_nst.core import wire
from krita_nst.job import Job

krita = fake_krita.krita   # the fixture


class StandIn:
    """The Controller as live mode uses it: real Jobs, ended by the test with the backend's messages."""

    def __init__(self):
        self.device, self.speeds, self.jobs, self.cancels, self.other_busy = "", {}, [], [], False

    def current_job(self):
        return None

    def backend(self):
        pass

    def busy(self):
        return self.other_busy or any(job.running() for job in self.jobs)

    def submit(self, content, style_images, job_settings, target, name, key=""):
        job = Job(len(self.jobs) + 1, target, name, self.cancels.append)
        job.sent = (content, style_images, job_settings, key)
        self.jobs.append(job)
        return job


def still(s):
    """The debounce timer fires: the update it waited for."""
    s._still.stop()
    s._update()


def finish(job):
    content = job.sent[0]
    job.handle(wire.Message(wire.RESULT, {"id": job.id, "image": content, "warm": True}))


def cancelled(job):
    job.handle(wire.Message(wire.CANCELLED, {"id": job.id, "step": 1}))


@pytest.fixture
def session(krita, app):
    ctl = StandIn()
    doc = krita.open(64, 48)
    content = doc.add_layer("Content", (10, 20, 30, 255))
    style = doc.add_layer("Style", (200, 100, 0, 255))
    s = live.LiveSession(ctl, functools.partial(request.prepare, ctl), doc, content, [style])
    yield s, ctl, doc, content, style
    s.stop(quiet=True)


def test_turned_on_it_makes_one_live_layer_and_sends_one_update_once_still(session):
    s, ctl, doc, content, style = session
    assert [n.name() for n in doc.rootNode().childNodes()] == ["Content", "Content \u00d7 Style [live]", "Style"]
    assert s._still.isActive() and s._still.interval() == live.DEBOUNCE_MS and ctl.jobs == []   # debouncing
    still(s)
    [job] = ctl.jobs
    image, style_images, job_settings, key = job.sent
    assert key == "live:" + content.uniqueId().toString() and job_settings["preview_every"] == 1000
    assert (image.width, image.height) == (64, 48) and style_images[0]["image"].data[:4] == bytes((200, 100, 0, 255))
    finish(job)
    assert s.updates == 1 and s.layer.node.writes >= 1 and not s._still.isActive()
    s._tick()
    still(s)   # nothing changed: nothing sent
    assert len(ctl.jobs) == 1


def test_a_stroke_is_followed_and_an_overtaken_update_is_cancelled_then_redone(session):
    s, ctl, doc, content, style = session
    still(s)
    finish(ctl.jobs[0])
    content.fill(0, 0, 8, 8, (0, 0, 255, 255))
    s._tick()
    assert s._still.isActive()
    still(s)
    assert len(ctl.jobs) == 2 and ctl.jobs[1].sent[0].data[:4] == bytes((0, 0, 255, 255))
    content.fill(20, 20, 8, 8, (0, 255, 0, 255))   # painting on while it runs
    s._tick()
    still(s)
    assert ctl.cancels == [2] and len(ctl.jobs) == 2   # overtaken: cancelled, the next waits for its end
    cancelled(ctl.jobs[1])
    assert s._still.isActive() and s._still.interval() == 0   # redone at once
    still(s)
    assert len(ctl.jobs) == 3 and ctl.jobs[2].running()


def test_after_new_settings_one_more_update_goes_on_from_the_first_then_quiet(session, krita):
    s, ctl, doc, content, style = session
    still(s)
    finish(ctl.jobs[0])
    krita.writeSetting("krita_nst", "strength", "65")
    s._tick()
    still(s)
    assert ctl.jobs[1].sent[2]["strength"] == 65
    finish(ctl.jobs[1])
    assert s._still.isActive()   # one more, same state
    still(s)
    assert len(ctl.jobs) == 3
    finish(ctl.jobs[2])
    s._tick()
    still(s)
    assert len(ctl.jobs) == 3 and s.updates == 3 and not s._still.isActive()


def test_a_style_layer_painted_is_read_again_and_an_ordinary_run_is_waited_for(session):
    s, ctl, doc, content, style = session
    still(s)
    finish(ctl.jobs[0])
    style.fill(0, 0, 64, 48, (0, 200, 0, 255))
    s._tick()
    ctl.other_busy = True
    still(s)
    assert len(ctl.jobs) == 1 and s._still.isActive()   # tried again after the ordinary run
    ctl.other_busy = False
    still(s)
    assert ctl.jobs[1].sent[1][0]["image"].data[:4] == bytes((0, 200, 0, 255))


def test_the_timers_debounce_a_stroke_into_one_update(krita, app, monkeypatch):
    monkeypatch.setattr(live, "POLL_MS", 5)
    monkeypatch.setattr(live, "DEBOUNCE_MS", 60)
    ctl, doc = StandIn(), krita.open(32, 32)
    content, style = doc.add_layer("Content", (1, 2, 3, 255)), doc.add_layer("Style", (9, 9, 9, 255))
    s = live.LiveSession(ctl, functools.partial(request.prepare, ctl), doc, content, [style])
    try:
        spin(app, lambda: ctl.jobs, 5, "the first update")
        finish(ctl.jobs[0])
        for x in range(0, 24, 4):   # a stroke in steps closer together than the debounce
            content.fill(x, 0, 4, 4, (0, 0, 255, 255))
            spin(app, lambda x=x: s._seen is not None and s._seen.content > x // 4, 5, "the scan to see it")
        assert len(ctl.jobs) == 1
        spin(app, lambda: len(ctl.jobs) == 2, 5, "one update after the stroke")
    finally:
        s.stop(quiet=True)


def test_stopping_leaves_an_ordinary_layer_or_removes_an_empty_one(session, krita, app):
    s, ctl, doc, content, style = session
    said = []
    s.stopped.connect(said.append)
    still(s)
    finish(ctl.jobs[0])
    s.stop()
    assert s.layer.node.name() == "Content \u00d7 Style" and said == [""] and not s._still.isActive()
    ctl2, why = StandIn(), []
    empty = live.LiveSession(ctl2, functools.partial(request.prepare, ctl2), doc, content, [style])
    empty.stopped.connect(why.append)
    content.remove()
    empty._tick()   # its content layer is gone: it stops by itself, says why, leaves no empty layer
    assert not empty.active and not empty.layer.alive() and "content layer" in why[0]
