"""Scripting API, also used by the plugin's own actions and docker: a thin facade over the Controller.

    from krita_nst import api
    job = api.stylize(doc, doc.activeNode(), [doc.nodeByName("Style")], size=384, steps=200)
    job.finished.connect(lambda layer: print("done:", layer.name()))

`stylize` creates one new paint layer right above the content layer and streams previews into it;
the content and style layers are only read.  One job runs at a time: a second `stylize` while
`busy()` raises `Busy`.
"""

from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from . import actions, config, layers
from .config import BackendMissing
from .controller import Busy, Controller
from .job import Job
from .layers import LayerError
from .settings import check_settings

__all__ = ["stylize", "busy", "current_job", "cancel", "style_nodes", "set_style", "backend_pid", "controller",
           "shutdown", "Job", "Busy", "BackendMissing", "LayerError"]

_controller: Optional[Controller] = None
StyleNodes = Iterable[Union[Any, Tuple[Any, float]]]


def controller() -> Controller:
    """The plugin's one Controller, made on first use; the extension and the docker talk to it."""
    global _controller
    if _controller is None:
        _controller = Controller(config.backend_location, config.log_path, layers.is_open)
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


def style_nodes(document: Any) -> List[Any]:
    """The layers chosen as this document's style, still present, in order."""
    return layers.find_nodes(document, controller().style_ids(document)) if document is not None else []


def set_style(document: Any, nodes: Iterable[Any]) -> None:
    controller().set_style(document, [layers.node_id(node) for node in nodes])


def _style_list(style_nodes: Optional[StyleNodes]) -> List[Tuple[Any, float]]:
    """Nodes, or (node, weight) pairs."""
    out = []
    for item in style_nodes or []:
        node, weight = item if isinstance(item, tuple) else (item, 1.0)
        out.append((node, float(weight)))
    if not out:
        raise LayerError("No style layer chosen: select the style layer and use %s first."
                         % actions.hint(actions.SET_STYLE))
    return out


def prepare(document: Any, content_node: Any, style_nodes: Optional[StyleNodes], **settings: Any) -> Dict[str, Any]:
    """Everything a job needs, read from Krita: content and style images, settings, the area and the name.

    Raises Busy, LayerError, BackendMissing or ValueError (bad setting) with a readable message.
    """
    ctl = controller()
    if ctl.busy():
        raise Busy("Already stylising %s; cancel it with %s or wait for it to finish."
                   % (ctl.current_job().name, actions.hint(actions.CANCEL)))  # type: ignore[union-attr]
    if document is None:
        raise LayerError("No document is open.")
    styles = _style_list(style_nodes)
    for node, _ in styles:
        if layers.same_node(node, content_node):
            raise LayerError("The style layer %s is the layer being stylised; pick another layer as the style."
                             % layers.describe(node))
    merged = check_settings(dict(config.job_settings(), **settings))
    rect, mask = layers.work_area(document, content_node, config.read("feather"))
    content, rect = layers.export(content_node, rect)
    style_images = [{"image": layers.export(node)[0], "weight": weight} for node, weight in styles]
    ctl.backend()   # a missing backend says so before any layer is made
    return {"content": content, "styles": style_images, "settings": merged, "rect": rect, "mask": mask,
            "name": layers.result_name(content_node, [node for node, _ in styles])}


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
