"""Scripting API, also used by the plugin's own actions and docker: a thin facade over the Controller.

    from krita_nst import api
    job = api.stylize(doc, doc.activeNode(), [doc.nodeByName("Style")], size=384, steps=200)
    job.finished.connect(lambda layer: print("done:", layer.name()))

`stylize` creates one new paint layer right above the content layer and streams previews into it;
the content and style layers are only read.  One job runs at a time: a second `stylize` while
`busy()` raises `Busy`.
"""

from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from . import actions, config, layers, styles
from .config import BackendMissing
from .controller import Busy, Controller
from .core.settings import check_settings
from .estimate import describe as describe_time
from .job import Job
from .layers import LayerError

__all__ = ["stylize", "busy", "current_job", "cancel", "style_nodes", "set_style", "style_sources",
           "set_style_sources", "backend_pid", "controller",
           "shutdown", "Job", "Busy", "BackendMissing", "LayerError"]

_controller: Optional[Controller] = None
StyleNodes = Iterable[Union[Any, Tuple[Any, float], Dict[str, Any]]]   # nodes, (node, weight), sources


def controller() -> Controller:
    """The plugin's one Controller, made on first use; the extension and the docker talk to it."""
    global _controller
    if _controller is None:
        _controller = ctl = Controller(config.backend_location, config.log_path, layers.is_open)
        speeds = config.read_json("speeds")   # the time estimates learned in earlier sessions
        if isinstance(speeds, dict):
            ctl.speeds.update({k: float(v) for k, v in speeds.items() if isinstance(v, (int, float))})
        ctl.learned.connect(lambda: config.write_json("speeds", ctl.speeds))
    return _controller


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
    controller().shutdown()


def estimate(document: Any, node: Any) -> str:
    """What a run on node would be, for the docker: "Works at 512x341 px, about 20 s on cpu, bf16" ("" without
    a layer)."""
    if document is None or node is None:
        return ""
    rect = layers.work_rect(document, node)
    if rect.isEmpty():
        return ""
    ctl = controller()
    (w, h), seconds = ctl.time_estimate(rect.width(), rect.height(), check_settings(config.job_settings()))
    return "Works at %dx%d px, %s" % (w, h, describe_time(seconds)) + (" on " + ctl.device if ctl.device else "")


def style_sources(document: Any) -> List[styles.Source]:
    """This document's style: chosen in this session, else kept in the document (.kra), else the last
    style file (kritarc's style_file)."""
    if document is None:
        return []
    chosen = controller().style_sources(document)
    if chosen is None:
        chosen = styles.load(document)
    if not chosen and config.read("style_file"):
        chosen = [styles.from_file(config.read("style_file"))]
    return chosen


def set_style_sources(document: Any, sources: List[styles.Source]) -> None:
    """Choose this document's style (kept in the document; a file also becomes the default style_file)."""
    sources = styles.valid(sources)
    controller().set_style(document, sources)
    styles.save(document, sources)
    files = [s["file"] for s in sources if "file" in s]
    if files:
        config.write("style_file", files[0])


def style_nodes(document: Any) -> List[Any]:
    """The layers chosen as this document's style, still present, in order."""
    return [node for node, _ in styles.nodes(document, style_sources(document))] if document is not None else []


def set_style(document: Any, nodes: Iterable[Any]) -> None:
    set_style_sources(document, styles.from_layers(list(nodes)))


def sources_of(items: Optional[StyleNodes]) -> List[styles.Source]:
    """The style sources of style items: nodes, (node, weight) pairs or style sources."""
    sources: List[styles.Source] = []
    for item in items or []:
        if isinstance(item, dict):
            sources += styles.valid([item])
            continue
        node, weight = item if isinstance(item, tuple) else (item, 1.0)
        sources += styles.from_layers([node], float(weight))
    return sources


def style_images(document: Any, content_node: Any, items: Optional[StyleNodes]) -> Tuple[List[str], List[Any]]:
    """(names, [{"image", "weight"}]) of style items (see sources_of), checked to be usable."""
    sources = sources_of(items)
    if not sources:
        raise LayerError("No style chosen: select the style layer(s) and use %s, or pick a painting or a file in "
                         "the docker." % actions.hint(actions.SET_STYLE))
    for node, _ in styles.nodes(document, sources):
        if layers.same_node(node, content_node):
            raise LayerError("The style layer %s is the layer being stylised; pick another layer as the style "
                             "(a layer cannot be repainted with its own texture here: the result would be "
                             "the layer itself)." % layers.describe(node))
    exported = styles.export(document, sources)
    return [name for name, _, _ in exported], [{"image": image, "weight": w} for _, image, w in exported]


def prepare(document: Any, content_node: Any, style_nodes: Optional[StyleNodes], *, read_content: bool = True,
            **settings: Any) -> Dict[str, Any]:
    """Everything a job needs, read from Krita: content and style images, settings, the area and the name.

    read_content=False checks the content but does not export it ("content" is None): live mode keeps
    its own copy at the working size, and a big layer's export holds Krita for seconds.
    Raises Busy, LayerError, BackendMissing or ValueError (bad setting) with a readable message.
    """
    ctl = controller()
    if ctl.busy():
        raise Busy("Already stylising %s; cancel it with %s or wait for it to finish."
                   % (ctl.current_job().name, actions.hint(actions.CANCEL)))  # type: ignore[union-attr]
    if document is None:
        raise LayerError("No document is open.")
    merged = check_settings(dict(config.job_settings(), **settings))
    names, images = style_images(document, content_node, style_nodes)
    rect, mask = layers.work_area(document, content_node, config.read("feather"))
    content = None
    if read_content:
        content, rect = layers.export(content_node, rect)
    else:
        layers.check_area(content_node, rect)
    ctl.backend()   # a missing backend says so before any layer is made
    return {"content": content, "styles": images, "settings": merged, "rect": rect, "mask": mask,
            "name": "%s \u00d7 %s" % (content_node.name(), ", ".join(names))}


def stylize(document: Any, content_node: Any, style_nodes: Optional[StyleNodes], **settings: Any) -> Job:
    """Start stylising content_node in the style of style_nodes; returns a Job.

    settings: any of settings.SETTINGS (size, steps, strength, ...); the rest come from kritarc.
    Raises Busy, LayerError, BackendMissing or ValueError (bad setting) with a readable message.
    A run after an earlier one on the same layer and style starts from where that one ended (warm).
    """
    job = prepare(document, content_node, style_nodes, **settings)
    target = layers.ResultLayer(document, content_node, job["name"], job["rect"], job["mask"])
    return controller().submit(job["content"], job["styles"], job["settings"], target, job["name"],
                               key=layers.node_id(content_node))
