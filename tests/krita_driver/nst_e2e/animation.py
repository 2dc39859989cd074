"""Scenarios of animation: an animated paint layer's keyframes stylised into an animated result layer."""

import hashlib
import os

from krita import Krita

from .common import (
    OUT,
    SAMPLES,
    QApplication,
    QImage,
    active,
    api,
    choose_style,
    layer_from_file,
    message_boxes,
    names_above,
    results,
    wait,
)

SIZE = (96, 72)
KEYS = (0, 1, 4, 6)   # the one at 1 is held over 1, 2 and 3
END = 7               # the clip: 0..7
PAN = 6               # px the camera moves right from one keyframe to the next


def keyframes(node, end=END + 3):
    return [t for t in range(end + 1) if node.hasKeyframeAtTime(t)]


def frame_bytes(node, t):
    w, h = SIZE
    return bytes(node.pixelDataAtTime(0, 0, w, h, t))


def save_frame(node, t, name):
    w, h = SIZE
    data = frame_bytes(node, t) or bytes(4 * w * h)
    QImage(data, w, h, w * 4, QImage.Format.Format_ARGB32).save(os.path.join(OUT, name))


def animated_layer(doc, name):
    """An animated paint layer with a keyframe at each of KEYS: a camera panning over a photo, PAN px a keyframe.
    Made as an artist would: the layer active, the playhead at each time, Krita's add_blank_frame."""
    app, (w, h) = Krita.instance(), SIZE
    photo = QImage(os.path.join(SAMPLES, "chelsea.png")).scaled(150, 100).convertToFormat(QImage.Format.Format_ARGB32)
    node = doc.createNode(name, "paintlayer")
    doc.rootNode().addChildNode(node, None)
    node.enableAnimation()
    yield wait(active(doc, node), 10, "the animated layer active")
    for k, t in enumerate(KEYS):
        doc.setCurrentTime(t)
        doc.waitForDone()
        if not node.hasKeyframeAtTime(t):
            app.action("add_blank_frame").trigger()
            doc.waitForDone()
        crop = photo.copy(PAN * k, 14, w, h)   # within the photo: every pixel opaque
        node.setPixelData(bytes(crop.constBits().asstring(crop.sizeInBytes())), 0, 0, w, h)
        doc.waitForDone()
    return node


def scenario_animation():
    app = Krita.instance()
    w, h = SIZE
    doc = app.createDocument(w, h, "nst-animation", "RGBA", "U8", "", 72.0)
    app.activeWindow().addView(doc)
    yield wait(lambda: app.activeWindow().activeView() is not None
               and app.activeWindow().activeView().document() == doc, 20, "the new document's view")
    app.setActiveDocument(doc)
    doc.setFullClipRangeStartTime(0)
    doc.setFullClipRangeEndTime(END)
    doc.setPlayBackRange(0, END)
    style = layer_from_file(doc, "Style", os.path.join(SAMPLES, "starry_night_google.jpg"), 91, h)
    content = yield from animated_layer(doc, "Content")
    record = results["animation"] = {"content_keys": keyframes(content), "range": [doc.playBackStartTime(),
                                                                                 doc.playBackEndTime()]}
    before = {t: hashlib.sha256(frame_bytes(content, t)).hexdigest() for t in KEYS}
    yield from choose_style(doc, style)
    # A still layer: refused, pointing to Stylize Layer; no layer made.
    layers_before = len(doc.rootNode().childNodes())
    app.action("krita_nst_stylize_animation").trigger()
    record["still_messages"] = [b.text() for b in message_boxes()]
    record["still_layers_added"] = len(doc.rootNode().childNodes()) - layers_before
    for box in message_boxes():
        box.close()
    # The artist leaves the playhead at 2 (the held keyframe) and runs Stylize Animation on the content.
    yield wait(active(doc, content), 10, "the content layer active")
    doc.setCurrentTime(2)
    doc.waitForDone()
    record["shortcut"] = app.action("krita_nst_stylize_animation").shortcut().toString()
    record["clashes"] = [a.objectName() for a in app.actions() if a.objectName() != "krita_nst_stylize_animation"
                         and record["shortcut"] in [s.toString() for s in a.shortcuts()]]
    app.action("krita_nst_stylize_animation").trigger()
    record["messages"] = [b.text() for b in message_boxes()]
    yield wait(lambda: api().current_job() is not None, 30, "an animation job")
    job = api().current_job()
    texts, shown = record.setdefault("progress", []), record.setdefault("shown", [])
    job.progress.connect(lambda _s, _t, info: texts.append(info["text"]))
    job.frame_done.connect(lambda index: shown.append([index, keyframes(job.layer), doc.currentTime(),
                                                       bool(frame_bytes(job.layer, KEYS[index]).strip(b"\0"))]))
    from krita_nst import docker
    dockers = [d for d in QApplication.allWidgets() if isinstance(d, docker.StyleDocker)]
    status = record.setdefault("docker_status", [])
    job.progress.connect(lambda *_: status.extend(d.status.text() for d in dockers))
    yield wait(lambda: not job.running(), 300, "the animation job to end")
    layer = job.layer
    record.update(state=job.state, name=layer.name(), layers=names_above(doc), seconds=job.seconds,
                  result_keys=keyframes(layer), animated=layer.animated(), playhead=doc.currentTime(),
                  content_keys_after=keyframes(content), active=doc.activeNode().name())
    record["originals_intact"] = before == {t: hashlib.sha256(frame_bytes(content, t)).hexdigest() for t in KEYS}
    for t in KEYS:
        save_frame(content, t, "content_%d.png" % t)
        save_frame(layer, t, "result_%d.png" % t)
    # Undo: what each step takes away, until the result layer is gone.
    record["undo"] = []
    for _ in range(3):
        text = app.action("edit_undo").text()
        app.action("edit_undo").trigger()
        yield wait(lambda: True, 0.5)
        record["undo"].append([text, names_above(doc), doc.currentTime(), keyframes(content)])
        if layer.name() not in names_above(doc):
            break
