"""krita_nst/api.py and krita_nst/request.py against the fake Krita and a stand-in controller: what a job
request holds, the refusals before any layer is made, and the facade's owners."""

import pytest

import fake_krita  # installs itself as `krita`: first
from krita_nst import api, config, request, styles
from krita_nst.controller import Busy, Controller
from krita_nst.watcher import ACTIVE_AREA

krita = fake_krita.krita   # the fixture


class StandIn:
    """What request.prepare and api.stylize need of the Controller, recording what they asked."""

    def __init__(self):
        self.job, self.backends, self.submitted, self.device, self.speeds = None, 0, [], "", {}

    def current_job(self):
        return self.job

    def backend(self):
        self.backends += 1

    def submit(self, content, style_images, job_settings, target, name, key="", start=None):
        self.submitted.append((content, style_images, job_settings, target, name, key))
        self.start = start
        return "a job"


@pytest.fixture
def plugin(krita, app, monkeypatch):
    """A document with Content and Style layers; api's owners fresh, its controller the stand-in."""
    ctl = StandIn()
    for name, value in (("_controller", ctl), ("_style_choice", None), ("_watcher", None)):
        monkeypatch.setattr(api, name, value)
    doc = krita.open(40, 30)
    content = doc.add_layer("Content", (10, 20, 30, 255), (5, 5, 30, 20))
    style = doc.add_layer("Style", (200, 100, 0, 255))
    doc.setActiveNode(content)
    yield ctl, doc, content, style
    api.watcher().stop()


def test_a_request_holds_the_images_checked_settings_area_name_and_key(plugin, krita):
    ctl, doc, content, style = plugin
    krita.writeSetting("krita_nst", "strength", "70")
    job = request.prepare(ctl, doc, content, [(style, 0.5)], size=96)
    assert isinstance(job, request.JobRequest) and ctl.backends == 1   # the backend is asked for first
    assert (job.content.width, job.content.height) == (30, 20) and job.content.data[:4] == bytes((10, 20, 30, 255))
    assert [s["weight"] for s in job.styles] == [0.5] and job.styles[0]["image"].width == 40
    assert job.settings["size"] == 96 and job.settings["strength"] == 70 and job.mask is None
    assert (job.rect.x(), job.rect.y(), job.name) == (5, 5, "Content \u00d7 Style")
    assert job.key == content.uniqueId().toString()
    light = request.prepare(ctl, doc, content, styles.from_layers([style]), read_content=False)
    assert light.content is None and light.rect == job.rect   # live mode's turn-on: checked, not exported


def test_nothing_is_prepared_while_busy_without_a_style_or_with_the_content_as_style(plugin):
    ctl, doc, content, style = plugin
    with pytest.raises(api.LayerError, match="No style chosen"):
        request.prepare(ctl, doc, content, [])
    with pytest.raises(api.LayerError, match="is the layer being stylised"):
        request.prepare(ctl, doc, content, [content])
    with pytest.raises(ValueError):
        request.prepare(ctl, doc, content, [style], steps=-3)
    with pytest.raises(api.LayerError, match="No document"):
        request.prepare(ctl, None, content, [style])
    ctl.job = type("Running", (), {"name": "Other \u00d7 Style"})()
    with pytest.raises(Busy, match="Already stylising Other"):
        request.prepare(ctl, doc, content, [style])
    assert ctl.backends == 0   # every refusal came before the backend was asked


def test_stylize_makes_one_layer_above_the_content_and_submits_the_request(plugin):
    ctl, doc, content, style = plugin
    assert api.stylize(doc, content, [style], steps=20) == "a job"
    [(image, images, job_settings, target, name, key)] = ctl.submitted
    assert [n.name() for n in doc.rootNode().childNodes()] == ["Content", "Content \u00d7 Style", "Style"]
    assert target.node.name() == name == "Content \u00d7 Style" and key == content.uniqueId().toString()
    assert job_settings["steps"] == 20 and image.width == 30 and len(images) == 1


def test_the_facade_reads_and_chooses_styles_through_their_owner(plugin):
    ctl, doc, content, style = plugin
    said = []
    api.style_choice().changed.connect(said.append)
    api.set_style(doc, [style])
    assert api.style_nodes(doc) == [style] and said == [doc]
    assert api.style_sources(doc) == api.style_choice().sources(doc) == styles.from_layers([style])
    assert api.sources_of([style, (style, 2.0), {"file": "/f.png"}])[1:] == [
        dict(styles.from_layers([style])[0], weight=2.0), {"file": "/f.png", "weight": 1.0}]


def test_the_watcher_sees_kritarc_and_the_active_layers_area_and_the_style_owner_follows(plugin, krita):
    ctl, doc, content, style = plugin
    said = []
    api.style_choice().changed.connect(said.append)
    watcher = api.watcher()
    config.write("steps", 30)
    assert watcher.check() == {"steps"}
    doc.setActiveNode(style)
    assert watcher.check() == {ACTIVE_AREA}
    doc.setSelection(fake_krita.Selection(2, 2, 4, 4))
    assert watcher.check() == {ACTIVE_AREA}
    krita.writeSetting("krita_nst", "style_file", "/a.png")   # a script's choice
    assert watcher.check() == {"style_file"} and said == [None]


def test_the_estimate_names_the_working_size_and_what_is_known_of_the_time(plugin):
    ctl, doc, content, style = plugin
    ctl.time_estimate = lambda w, h, s: Controller.time_estimate(ctl, w, h, s)   # the real one, on ctl's speeds
    assert api.estimate(doc, content) == "Works at 30x20 px, time: known after the first run"   # never upscaled
    ctl.device, ctl.speeds = "cpu, bf16", {"cpu, bf16": 1000.0}   # s a step a megapixel: x 100 steps x 0.0006
    assert api.estimate(doc, content) == "Works at 30x20 px, about 60 s on cpu, bf16"
    config.write("size", 64)
    doc.setSelection(fake_krita.Selection(5, 5, 4, 4))   # the area with context, within the layer
    assert api.estimate(doc, content).startswith("Works at 30x20 px")
    assert api.estimate(doc, None) == "" and api.estimate(None, content) == ""


def test_finish_sends_the_result_as_the_start_at_full_resolution_into_a_new_layer_above_it(plugin):
    ctl, doc, content, style = plugin
    api.set_style(doc, [style])
    result = doc.createNode("Content \u00d7 Style [cancelled]", "paintlayer")   # an earlier run's, cancelled
    result.fill(5, 5, 30, 20, (90, 80, 70, 255))
    content.parentNode().addChildNode(result, content)
    for chosen in (result, content):   # the result layer, or its content right below it
        ctl.submitted.clear()
        assert api.finish(doc, chosen) == "a job"
        [(image, _, job_settings, target, name, key)] = ctl.submitted
        assert job_settings["resolution"] == "full" and key == content.uniqueId().toString()
        assert image.data[:4] == bytes((10, 20, 30, 255))                                   # the content
        assert (ctl.start.width, ctl.start.height) == (30, 20) and ctl.start.data[:4] == bytes((90, 80, 70, 255))
        siblings = doc.rootNode().childNodes()
        assert siblings.index(target.node) == siblings.index(result) + 1   # a new layer, right above the result
        assert target.node.name() == "Content \u00d7 Style [full resolution]"
        target.discard()
    with pytest.raises(api.LayerError, match="not a stylised layer"):
        api.finish(doc, style)      # the style layer has no result above it
