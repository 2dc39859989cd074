"""One job from wire images to wire images: the checks on a message, odd images, alpha, pooling."""

import pytest

from backend import images, jobs, warm
from backend.errors import InputError
from helpers import sample
from krita_nst.core import wire

QUICK = {"size": 192, "steps": 4, "preview_every": 1000, "resolution": "working"}


def wire_image(w, h, fmt, fill):
    return wire.Image(w, h, fmt, bytes(fill(i) for i in range(w * h * wire.FORMATS[fmt])))


def run_job(vgg, runtime, content, style, **settings):
    out = list(jobs.run(vgg, runtime, content, [(style, 1.0)], dict(QUICK, **settings)))
    return out[-1][1]


def test_a_message_is_read_into_content_styles_and_settings_or_refused():
    image = wire_image(4, 4, "RGB8", lambda i: i)
    content, styles, settings = jobs.from_message({"content": image, "styles": [{"image": image}]})
    assert content is image and styles == [(image, 1.0)] and settings == {}
    for fields, words in (({"styles": "x"}, "styles must be a list"), ({"styles": [3]}, "style 1 must be"),
                          ({"styles": [{"image": image, "size": 2}]}, "unknown field"),
                          ({"styles": [], "encoding": "jpeg"}, "encoding"),
                          ({"styles": [], "settings": 3}, "settings")):
        with pytest.raises(InputError, match=words):
            jobs.from_message(fields)


def test_odd_inputs_give_a_result_or_a_clear_error(vgg, runtime):
    style = images.load_file(sample("starry_night_google.jpg"))
    with pytest.raises(InputError, match="too small"):
        run_job(vgg, runtime, wire_image(1, 1, "RGBA8", lambda i: 200), style)
    with pytest.raises(InputError, match="too small"):
        run_job(vgg, runtime, wire_image(1, 2000, "RGBA8", lambda i: 200), style)
    with pytest.raises(InputError, match="too thin"):   # fine in pixels, too thin once scaled to `size`
        run_job(vgg, runtime, wire_image(2000, 20, "RGBA8", lambda i: 200), style)
    with pytest.raises(InputError, match="fully transparent"):
        run_job(vgg, runtime, wire_image(64, 64, "BGRA8", lambda i: 0), style)
    gray = wire_image(96, 64, "GRAY8", lambda i: (i * 7) % 256)
    out = run_job(vgg, runtime, gray, style)
    assert (out.width, out.height, out.format) == (96, 64, "GRAY8")
    wide = run_job(vgg, runtime, wire_image(300, 40, "RGB8", lambda i: (i * 13) % 256), style)
    assert (wide.width, wide.height) == (300, 40)


def test_transparent_areas_stay_transparent(vgg, runtime):
    style = images.load_file(sample("starry_night_google.jpg"))
    w, h = 80, 60
    # left half opaque grey-ish pixels, right half fully transparent
    def px(i):
        pixel, channel = divmod(i, 4)
        x = pixel % w
        return (255 if x < w // 2 else 0) if channel == 3 else (i * 11) % 256
    content = wire_image(w, h, "BGRA8", px)
    out = run_job(vgg, runtime, content, style)
    alpha_in = bytes(content.data)[3::4]
    alpha_out = bytes(out.data)[3::4]
    assert alpha_out == alpha_in




def test_a_job_runs_at_its_own_pooling_and_leaves_the_shared_model_as_it_was(vgg, runtime):
    content = images.load_file(sample("chelsea.png"))
    style = images.load_file(sample("starry_night_google.jpg"))

    def first_losses(pooling):
        return next(jobs.run(vgg, runtime, content, [(style, 1.0)], dict(QUICK, pooling=pooling)))[0].losses

    before, maxed, after = first_losses("avg"), first_losses("max"), first_losses("avg")
    assert before == after and maxed != before


def test_a_keyed_job_is_remembered_and_the_next_one_starts_warm(vgg, runtime):
    content = images.load_file(sample("chelsea.png"))
    style = images.load_file(sample("starry_night_google.jpg"))
    memory = warm.Memory()
    for expected in (False, True):
        last = list(jobs.run(vgg, runtime, content, [(style, 1.0)], QUICK, key="k", memory=memory))[-1][0]
        assert last.done and last.warm is expected and len(memory) == 1
    other = list(jobs.run(vgg, runtime, content, [(style, 2.0)], QUICK, key="k", memory=memory))[-1][0]
    assert not other.warm   # another style weight: other styles
    with pytest.raises(InputError, match="key"):
        list(jobs.run(vgg, runtime, content, [(style, 1.0)], QUICK, key=""))
