"""What each of the plugin's UI-thread steps costs on a document (KRITA_NST_E2E_CANVAS): benchmarks/krita_costs.py."""

import time

from .common import api, canvas_document, choose_style, results, wait


def _best_ms(action, runs):
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return round(best * 1000.0, 1)


def scenario_costs():
    doc, content, style = yield from canvas_document()
    yield from choose_style(doc, style)
    yield wait(lambda: api().style_sources(doc), 20, "the style chosen")
    from krita_nst import layers
    rect = content.bounds()
    args = (rect.x(), rect.y(), rect.width(), rect.height())
    scan = layers.scanner(content, rect)
    kept = layers.scanner(content, rect, 256).keep
    job = api().prepare(doc, content, [style], size=256)
    target = layers.ResultLayer(doc, content, "costs", rect, None)
    kept_image = kept.image() if kept is not None else job.content
    results["costs"] = {
        "space": [content.colorModel(), content.colorDepth(), content.colorProfile()],
        "read the whole layer": _best_ms(lambda: bytes(content.pixelData(*args)), 3),
        "live poll (one band, checksummed)": _best_ms(scan.poll, 5),
        "live scan's first full pass": _best_ms(lambda: layers.scanner(content, rect), 2),
        "... keeping the content at 256 px": _best_ms(lambda: layers.scanner(content, rect, 256), 2),
        "live update's content (kept from the scan's reads)": (_best_ms(kept.image, 3) if kept is not None else "-"),
        "export the content (to 8-bit sRGB)": _best_ms(lambda: layers.export(content, rect), 2),
        "export the style layer": _best_ms(lambda: layers.export(style), 2),
        "prepare a job (both, and the checks)": _best_ms(lambda: api().prepare(doc, content, [style], size=256), 1),
        "... without the content's export (live mode's turn-on)": _best_ms(
            lambda: api().prepare(doc, content, [style], size=256, read_content=False), 1),
        "write a full-size result (setPixelData + refreshProjection)": _best_ms(lambda: target.write(job.content),
                                                                                 2),
        "write a 256 px live result over it": _best_ms(lambda: target.write(kept_image), 2),
        "... without refreshProjection": _best_ms(lambda: target.fill(kept_image), 2),
        "refreshProjection alone": _best_ms(doc.refreshProjection, 2),
    }
    target.discard()
