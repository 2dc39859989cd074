"""Scenarios of real documents: undo, selections, colour models, every kind of layer."""

import os
import time

from krita import Krita

from .common import (
    OUT,
    SAMPLES,
    QImage,
    active,
    api,
    choose_style,
    digest,
    layer_from_file,
    message_boxes,
    names_above,
    results,
    run_job,
    save_canvas,
    save_png,
    start_document,
    start_until_preview,
    wait,
)


def scenario_undo():
    """One undo step per run: Ctrl+Z removes the whole result, Ctrl+Shift+Z brings it back finished;
    undo during a run cancels it at once and frees the plugin."""
    doc, content, style = yield from start_document()
    app = Krita.instance()
    yield from choose_style(doc, style)
    record = results["finished"] = {"before": names_above(doc)}
    job = yield from run_job(doc, content, "action", record)
    final = digest(job.layer)
    app.action("edit_undo").trigger()
    yield wait(lambda: job.layer.name() not in names_above(doc), 10, "the undo")
    record["after_undo"] = names_above(doc)
    app.action("edit_redo").trigger()
    yield wait(lambda: job.layer.name() in names_above(doc), 10, "the redo")
    record["after_redo"] = names_above(doc)
    record["redo_pixels_are_final"] = digest(job.layer) == final
    app.action("edit_undo").trigger()     # leave the document as it was for the next run
    yield wait(lambda: job.layer.name() not in names_above(doc), 10, "the second undo")
    record = results["mid_run"] = {}
    job = yield from start_until_preview(doc, content, record)
    undo_at = time.monotonic()
    app.action("edit_undo").trigger()
    yield wait(lambda: not job.running(), 10, "the job to notice the undo")
    record.update(seconds=time.monotonic() - undo_at, state=job.state, busy=api().busy(), layers=names_above(doc))
    app.action("edit_redo").trigger()
    yield wait(lambda: any(n.startswith("Content \u00d7 Style") for n in names_above(doc)), 10, "the redo")
    record["after_redo"] = names_above(doc)
    record = results["next_run"] = {}
    yield from run_job(doc, content, "action", record)

def scenario_selection():
    """A hard rectangular selection: the result is stylised inside, transparent outside, feathered."""
    from krita import Selection
    doc, content, style = yield from start_document()
    yield from choose_style(doc, style)
    selection = Selection()
    selection.select(120, 80, 200, 140, 255)
    doc.setSelection(selection)
    record = results["selected"] = {}
    job = yield from run_job(doc, content, "action", record)
    if job.state == "done":
        r = job.layer.bounds()
        record["bounds"] = [r.x(), r.y(), r.width(), r.height()]
        save_canvas(doc, job.layer, "selected.png")
        save_canvas(doc, content, "content.png")
    # A selection away from a small layer's pixels: a message, no layer.
    patch = doc.createNode("Patch", "paintlayer")
    doc.rootNode().addChildNode(patch, None)
    patch.setPixelData(b"\xff" * (40 * 40 * 4), 0, 0, 40, 40)
    far = Selection()
    far.select(350, 220, 60, 50, 255)
    doc.setSelection(far)
    doc.setActiveNode(patch)
    yield wait(lambda: doc.activeNode().name() == "Patch", 10, "the patch layer active")
    layers_before = len(doc.rootNode().childNodes())
    Krita.instance().action("krita_nst_stylize").trigger()
    results["missed"] = {"messages": [b.text() for b in message_boxes()],
                         "layers_added": len(doc.rootNode().childNodes()) - layers_before}

SPACES = (("RGBA", "U16", "sRGB-elle-V2-g10.icc"), ("RGBA", "F32", "sRGB-elle-V2-g10.icc"), ("CMYKA", "U8", ""),
          ("RGBA", "U8", "sRGB-elle-V2-g10.icc"))

def scenario_colour_models():
    """Documents in other colour models, depths and profiles: an 8-bit sRGB result layer that looks right."""
    for model, depth, profile in SPACES:
        record = results.setdefault("%s/%s/%s" % (model, depth, profile or "default"), {})
        doc, content, style = yield from start_document()
        record["converted"] = doc.setColorSpace(model, depth, profile)
        doc.waitForDone()
        record["doc_before"] = [doc.colorModel(), doc.colorDepth(), doc.colorProfile()]
        before = {"content": digest(content), "style": digest(style)}
        yield from choose_style(doc, style)
        job = yield from run_job(doc, content, "action", record)
        record["doc_after"] = [doc.colorModel(), doc.colorDepth(), doc.colorProfile()]
        record["originals_intact"] = before == {"content": digest(content), "style": digest(style)}
        record["result_space"] = [job.layer.colorModel(), job.layer.colorDepth(), job.layer.colorProfile()]
        if job.state == "done":
            name = "%s_%s" % (model, depth)
            save_png(job.layer, name + "_result.png")
            if (model, depth) == ("RGBA", "U16"):   # the content as Krita shows it, to compare with
                from krita_nst import layers
                image, rect = layers.export(content)
                QImage(image.data, rect.width(), rect.height(), rect.width() * 4,
                       QImage.Format.Format_ARGB32).save(os.path.join(OUT, "content_srgb.png"))
                kept = layers.scanner(content, rect, 160).keep.image()   # what live mode sends, from raw reads
                QImage(kept.data, kept.width, kept.height, kept.width * 4,
                       QImage.Format.Format_ARGB32).save(os.path.join(OUT, "content_kept.png"))
        doc.setModified(False)

def scenario_kinds():
    """Every kind of layer as content (read as it looks), hidden, offset and partly off the canvas."""
    doc, content, style = yield from start_document()
    app = Krita.instance()
    yield from choose_style(doc, style)
    root, made = doc.rootNode(), []
    hidden = layer_from_file(doc, "Hidden", os.path.join(SAMPLES, "coffee.png"), 300, 200)
    hidden.setVisible(False)
    offset = doc.createNode("Offset", "paintlayer")
    root.addChildNode(offset, None)
    offset.setPixelData(bytes(content.pixelData(0, 0, 200, 150)), 120, 90, 200, 150)
    off_canvas = doc.createNode("Off canvas", "paintlayer")
    root.addChildNode(off_canvas, None)
    off_canvas.setPixelData(bytes(content.pixelData(0, 0, 300, 200)), 300, 200, 300, 200)   # 151x100 px inside
    group = doc.createGroupLayer("Group")
    root.addChildNode(group, None)
    inner = layer_from_file(doc, "Inner", os.path.join(SAMPLES, "rocket.jpg"), 300, 200)
    inner.remove()
    group.addChildNode(inner, None)
    clone = doc.createCloneLayer("Clone", content)
    root.addChildNode(clone, None)
    file_layer = doc.createFileLayer("File", os.path.join(SAMPLES, "astronaut.png"), "None")
    root.addChildNode(file_layer, None)
    vector = doc.createVectorLayer("Vector")
    root.addChildNode(vector, None)
    vector.addShapesFromSvg('<svg xmlns="http://www.w3.org/2000/svg" width="451" height="300">'
                            '<circle cx="200" cy="150" r="90" fill="#2050c0" stroke="#f0c020" stroke-width="20"/>'
                            '<rect x="40" y="30" width="120" height="80" fill="#c03020"/></svg>')
    from krita import Selection
    everywhere = Selection()
    everywhere.select(0, 0, doc.width(), doc.height(), 255)
    blur = app.filter("blur")
    filter_layer = doc.createFilterLayer("Filter", blur, everywhere) if blur is not None else None
    if filter_layer is not None:
        root.addChildNode(filter_layer, None)
    made = [hidden, offset, off_canvas, group, clone, file_layer, vector] + ([filter_layer] if filter_layer else [])
    doc.refreshProjection()
    doc.waitForDone()
    yield wait(lambda: not file_layer.bounds().isEmpty() and not vector.bounds().isEmpty(), 30, "the layers drawn")
    results["kinds"] = {}
    for node in made:
        record = results["kinds"][node.name()] = {"type": node.type()}
        r = node.bounds()
        record["source_bounds"] = [r.x(), r.y(), r.width(), r.height()]
        yield wait(active(doc, node), 10, "layer %s active" % node.name())
        app.action("krita_nst_stylize").trigger()
        record["messages"] = [b.text() for b in message_boxes()]
        for box in message_boxes():
            box.close()
        if api().current_job() is None:
            continue
        job = api().current_job()
        yield wait(lambda job=job: not job.running(), 300, "the run on %s" % node.name())
        record["state"] = job.state
        if job.state == "done":
            r = job.layer.bounds()
            record["result_bounds"] = [r.x(), r.y(), r.width(), r.height()]
            record["above"] = names_above(doc).index(job.layer.name()) == names_above(doc).index(node.name()) + 1 \
                if node.parentNode() == root else True
    doc.setModified(False)
