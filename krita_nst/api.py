"""Scripting API, also used by the plugin's own actions and docker: a thin facade over the plugin's owners
(the Controller: backend, job, live mode; the StyleChoice: each document's style; the Watcher: kritarc).

    from krita_nst import api
    job = api.stylize(doc, doc.activeNode(), [doc.nodeByName("Style")], size=384, steps=200)
    job.finished.connect(lambda layer: print("done:", layer.name()))

`stylize` creates one new paint layer right above the content layer and streams previews into it;
the content and style layers are only read.  One job runs at a time: a second `stylize` while
`busy()` raises `Busy`.
"""

import functools
from typing import Any, Callable, Dict, Hashable, Iterable, List, Optional, Tuple

from krita import Document, Node

from . import actions, config, layers, request, styles
from .config import BackendMissing
from .controller import Busy, Controller
from .core import sizes
from .core.settings import check_settings
from .estimate import describe as describe_time
from .job import Job
from .layers import LayerError
from .request import JobRequest, StyleItems, sources_of, style_images
from .style_choice import StyleChoice
from .watcher import ACTIVE_AREA, Watcher

__all__ = ["stylize", "stylize_animation", "finish", "busy", "current_job", "cancel", "style_nodes", "set_style",
           "style_sources", "set_style_sources", "sources_of", "style_images", "backend_pid", "controller",
           "style_choice", "watcher", "prepare", "shutdown", "Job", "JobRequest", "Busy", "BackendMissing",
           "LayerError"]

_controller: Optional[Controller] = None
_style_choice: Optional[StyleChoice] = None
_watcher: Optional[Watcher] = None
StyleNodes = StyleItems   # nodes, (node, weight) pairs, style sources


def controller() -> Controller:
    """The plugin's one Controller, made on first use; the extension and the docker talk to it."""
    global _controller
    if _controller is None:
        _controller = ctl = Controller(config.backend_location, config.log_path)
        speeds = config.read_json("speeds")   # the time estimates learned in earlier sessions
        if isinstance(speeds, dict):
            ctl.speeds.update({k: float(v) for k, v in speeds.items() if isinstance(v, (int, float))})
        ctl.learned.connect(lambda: config.write_json("speeds", ctl.speeds))
    return _controller


def style_choice() -> StyleChoice:
    """The owner of each document's style (it follows kritarc's style_file through the watcher)."""
    global _style_choice
    if _style_choice is None:
        _style_choice = StyleChoice()
        watcher().changed.connect(_style_choice.settings_changed)
    return _style_choice


def _active_area() -> Tuple[Any, ...]:
    document = layers.active_document()
    node = document.activeNode() if document is not None else None
    return layers.area_key(document, node)


def watcher() -> Watcher:
    """The one timer that sees kritarc and the active layer's area change (Krita has no signal for them)."""
    global _watcher
    if _watcher is None:
        probes: Dict[str, Callable[[], Hashable]] = {name: functools.partial(config.raw, name)
                                                     for name in config.WATCHED}
        probes[ACTIVE_AREA] = _active_area
        _watcher = Watcher(probes)
    return _watcher


def busy() -> bool:
    return controller().busy()


def current_job() -> Optional[Job]:
    return controller().current_job()


def cancel() -> None:
    controller().cancel()


def backend_pid() -> Optional[int]:
    """The warm backend's process id, None while none runs."""
    return controller().backend_pid()


def shutdown() -> None:
    """Stop the backend (Krita is closing)."""
    if _watcher is not None:
        _watcher.stop()
    controller().shutdown()


def estimate(document: Optional[Document], node: Optional[Node]) -> str:
    """What a run on node would be, for the docker: "Works at 512x341 px, then at full resolution (2048x1365),
    about 2 min on cpu, bf16" ("" without a layer), and a word when the style is too small for 100 %."""
    if document is None or node is None:
        return ""
    rect = layers.work_rect(document, node)
    if rect.isEmpty():
        return ""
    ctl = controller()
    job_settings = check_settings(config.job_settings())
    (w, h), seconds, full = ctl.time_estimate(rect.width(), rect.height(), job_settings)
    text = "Works at %dx%d px" % (w, h)
    if full:
        text += ", then at full resolution (%dx%d)" % (rect.width(), rect.height())
    text += ", %s" % describe_time(seconds) + (" on " + ctl.device if ctl.device else "")
    if full:
        notes = [sizes.style_resolution_note(name, size, (rect.width(), rect.height()), job_settings["style_scale"])
                 for name, size in styles.sizes(document, style_sources(document))]
        text += "".join("\nNote: " + note + "." for note in notes if note)
    return text


def style_sources(document: Optional[Document]) -> List[styles.Source]:
    """This document's style: chosen in this session, else kept in the document (.kra), else the last
    style file (kritarc's style_file)."""
    return style_choice().sources(document)


def set_style_sources(document: Document, sources: List[styles.Source]) -> None:
    """Choose this document's style (kept in the document; a file also becomes the default style_file)."""
    style_choice().choose(document, sources)


def style_nodes(document: Optional[Document]) -> List[Node]:
    """The layers chosen as this document's style, still present, in order."""
    return [node for node, _ in styles.nodes(document, style_sources(document))] if document is not None else []


def set_style(document: Document, nodes: Iterable[Node]) -> None:
    set_style_sources(document, styles.from_layers(list(nodes)))


def prepare(document: Optional[Document], content_node: Optional[Node], style_items: Optional[StyleItems], *,
            read_content: bool = True, **settings: Any) -> JobRequest:
    """Everything a job needs, read from Krita (request.prepare with the plugin's controller)."""
    return request.prepare(controller(), document, content_node, style_items, read_content=read_content,
                           **settings)


def stylize(document: Optional[Document], content_node: Optional[Node], style_items: Optional[StyleItems],
            **settings: Any) -> Job:
    """Start stylising content_node in the style of style_items; returns a Job.

    settings: any of settings.SETTINGS (size, steps, strength, ...); the rest come from kritarc.
    Raises Busy, LayerError, BackendMissing or ValueError (bad setting) with a readable message.
    A run after an earlier one on the same layer and style starts from where that one ended (warm).
    """
    job = prepare(document, content_node, style_items, **settings)
    assert document is not None and content_node is not None and job.content is not None   # prepare checked
    target = layers.ResultLayer(document, content_node, job.name, job.rect, job.mask)
    return controller().submit(job.content, job.styles, job.settings, target, job.name, key=job.key)


def finish(document: Optional[Document], node: Optional[Node], **settings: Any) -> Job:
    """Paint a result at the layer's own resolution, warm from what it has: a new layer above it.

    node: the result layer ("content × style"), or its content layer right below it.  The style is the
    document's (style_sources); the working scales are skipped, so it costs the full-resolution passes only.
    """
    result, content = layers.result_pair(node)
    job = prepare(document, content, style_sources(document), **dict(settings, resolution="full"))
    assert document is not None and job.content is not None   # prepare checked
    start, _ = layers.export(result, job.rect)
    target = layers.ResultLayer(document, result, job.name + " [full resolution]", job.rect, job.mask)
    return controller().submit(job.content, job.styles, job.settings, target, job.name, key=job.key, start=start)


def stylize_animation(document: Optional[Document], content_node: Optional[Node], style_items: Optional[StyleItems],
                      **settings: Any) -> Any:
    """Stylise every keyframe of an animated layer over the playback range (the whole clip when none is set)
    into one new animated layer right above it, coherent from frame to frame; returns an AnimationJob
    (animation_job.py: progress, frame_done, finished, failed, cancelled, ended).

    settings: as for stylize, and temporal (0: each frame on its own).  A layer that is not animated is
    refused with a LayerError that points to Stylize Layer.  Raises what stylize raises.
    """
    from . import animation  # only once animation is used
    ctl = controller()
    job = ctl.current_job()
    if job is not None:
        raise Busy("Already stylising %s; cancel it with %s or wait for it to finish."
                   % (job.name, actions.hint(actions.CANCEL)))
    if document is None:
        raise LayerError("No document is open.")
    if content_node is None:
        raise LayerError("No layer is selected.")
    merged = check_settings(dict(config.job_settings(), **settings))
    plan, frames = animation.frame_plan(document, content_node)
    names, images = style_images(document, content_node, style_items)
    ctl.backend()   # a missing backend says so before any layer is made
    name = "%s \u00d7 %s" % (content_node.name(), ", ".join(names))
    target = animation.AnimatedResultLayer(document, content_node, name, plan)
    return ctl.submit_animation(frames, images, merged, target, name)
