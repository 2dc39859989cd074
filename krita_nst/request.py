"""What a job needs, read from Krita: `prepare` builds a JobRequest that `api.stylize` and live mode
send through the Controller they are given (no facade, no singleton).

A style item is a node, a (node, weight) pair or a style source (styles.Source).
"""

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from krita import Document, Node

from . import actions, config, layers, styles
from .controller import Busy, Controller
from .core.settings import check_settings
from .core.wire import Image

StyleItems = Iterable[Union[Node, Tuple[Node, float], styles.Source]]
StyleImage = Dict[str, Any]   # {"image": wire.Image, "weight": float}, as Controller.submit takes them


@dataclass(frozen=True)
class JobRequest:
    content: Optional[Image]      # None when prepared with read_content=False
    styles: List[StyleImage]
    settings: Dict[str, Any]      # checked, kritarc's merged with the caller's
    rect: Any                     # QRect of the content layer the job works on
    mask: Optional[bytes]         # the selection over rect, one byte a pixel; None without one
    name: str                     # "content × style, style"
    key: str                      # the content's thread of runs (warm starts)


def sources_of(items: Optional[StyleItems]) -> List[styles.Source]:
    """The style sources of style items."""
    sources: List[styles.Source] = []
    for item in items or []:
        if isinstance(item, dict):
            sources += styles.valid([item])
            continue
        node, weight = item if isinstance(item, tuple) else (item, 1.0)
        sources += styles.from_layers([node], float(weight))
    return sources


def style_images(document: Document, content_node: Optional[Node], items: Optional[StyleItems],
                 ) -> Tuple[List[str], List[StyleImage]]:
    """(names, images) of style items, checked to be usable."""
    sources = sources_of(items)
    if not sources:
        raise layers.LayerError("No style chosen: select the style layer(s) and use %s, or pick a painting or a "
                                "file in the docker." % actions.hint(actions.SET_STYLE))
    for node, _ in styles.nodes(document, sources):
        if layers.same_node(node, content_node):
            raise layers.LayerError("The style layer %s is the layer being stylised; pick another layer as the "
                                    "style (a layer cannot be repainted with its own texture here: the result "
                                    "would be the layer itself)." % layers.describe(node))
    exported = styles.export(document, sources)
    return [name for name, _, _ in exported], [{"image": image, "weight": w} for _, image, w in exported]


def prepare(controller: Controller, document: Optional[Document], content_node: Optional[Node],
            style_items: Optional[StyleItems], *, read_content: bool = True, **settings: Any) -> JobRequest:
    """Everything a job needs, checked before any layer is made.

    read_content=False checks the content but does not export it: live mode keeps its own copy at
    the working size, and a big layer's export holds Krita for seconds.
    Raises Busy, LayerError, BackendMissing or ValueError (bad setting) with a readable message.
    """
    job = controller.current_job()
    if job is not None:
        raise Busy("Already stylising %s; cancel it with %s or wait for it to finish."
                   % (job.name, actions.hint(actions.CANCEL)))
    if document is None:
        raise layers.LayerError("No document is open.")
    merged = check_settings(dict(config.job_settings(), **settings))
    names, images = style_images(document, content_node, style_items)
    rect, mask = layers.work_area(document, content_node, config.read("feather"))
    assert content_node is not None   # work_area refused None
    content = None
    if read_content:
        content, rect = layers.export(content_node, rect)
    else:
        layers.check_area(content_node, rect)
    controller.backend()   # a missing backend says so before any layer is made
    return JobRequest(content, images, merged, rect, mask, "%s \u00d7 %s" % (content_node.name(), ", ".join(names)),
                      layers.node_id(content_node))
