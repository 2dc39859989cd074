"""Where a document's style comes from: its layers (any number, each with a weight), image files and
the bundled gallery of public-domain paintings.

A source is a small dict, so that it can be kept in the document (an annotation, saved in the .kra)
and in kritarc:  {"layer": uuid, "name": layer name, "weight": w}  or  {"file": path, "weight": w}.
The last file style is kritarc's `style_file`: a document with no style of its own starts with it.
"""

import json
import os
from typing import Any, Dict, List, Tuple

from krita import Document, Node

from . import layers
from .core.wire import Image
from .pixels import PixelError, load_file
from .qt import QByteArray, QImageReader

Source = Dict[str, Any]
ANNOTATION = "krita-nst-style"
GALLERY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gallery")
TITLES = {"starry_night.jpg": "The Starry Night (van Gogh, 1889)", "the_scream.jpg": "The Scream (Munch, 1893)",
          "great_wave.jpg": "The Great Wave (Hokusai, c. 1831)", "udnie.jpg": "Udnie (Picabia, 1913)"}


def gallery() -> List[Tuple[str, str]]:
    """(title, path) of each bundled painting."""
    return [(title, os.path.join(GALLERY, name)) for name, title in TITLES.items()]


def from_layers(nodes: List[Node], weight: float = 1.0) -> List[Source]:
    return [{"layer": layers.node_id(node), "name": node.name(), "weight": weight} for node in nodes]


def from_file(path: str, weight: float = 1.0) -> Source:
    return {"file": os.path.abspath(path), "weight": weight}


def title(source: Source) -> str:
    if "file" in source:
        name = os.path.basename(source["file"])
        return TITLES.get(name, name) if os.path.dirname(source["file"]) == GALLERY else name
    return source.get("name", "?")


def valid(sources: Any) -> List[Source]:
    """The well-formed sources of a list read from a file or a setting (anything else is dropped)."""
    out = []
    for s in sources if isinstance(sources, list) else []:
        if isinstance(s, dict) and isinstance(s.get("weight", 1.0), (int, float)) and \
                (isinstance(s.get("layer"), str) or isinstance(s.get("file"), str)):
            out.append(dict(s, weight=float(s.get("weight", 1.0))))
    return out


def save(document: Document, sources: List[Source]) -> None:
    """Keep the choice in the document: it is saved with the .kra."""
    document.setAnnotation(ANNOTATION, "krita-nst style sources", QByteArray(json.dumps(sources).encode("utf-8")))


def load(document: Document) -> List[Source]:
    if ANNOTATION not in document.annotationTypes():
        return []
    try:
        return valid(json.loads(bytes(document.annotation(ANNOTATION)).decode("utf-8")))
    except ValueError:
        return []


def nodes(document: Document, sources: List[Source]) -> List[Tuple[Node, float]]:
    """The layer sources' nodes (by id; by name when the .kra was reopened), with weights; gone ones left out."""
    out = []
    for source in sources:
        if "layer" in source:
            found = layers.find_nodes(document, [source["layer"]])
            if not found and source.get("name"):
                node = document.nodeByName(source["name"])
                found = [node] if node is not None else []
            out += [(node, source["weight"]) for node in found]
    return out


def export(document: Document, sources: List[Source]) -> List[Tuple[str, Image, float]]:
    """(title, 8-bit sRGB image, weight) of every source, in order; a LayerError names an unusable one."""
    out = []
    for source in sources:
        if "file" in source:
            try:
                out.append((title(source), load_file(source["file"]), source["weight"]))
            except PixelError as exc:
                raise layers.LayerError("The style file %s cannot be used: %s" % (source["file"], exc)) from None
        else:
            found = nodes(document, [source])
            if not found:
                raise layers.LayerError("The style layer \u201c%s\u201d is gone from this document; choose the "
                                        "style again." % source.get("name", "?"))
            out.append((found[0][0].name(), layers.export(found[0][0])[0], source["weight"]))
    return out


def sizes(document: Document, sources: List[Source]) -> List[Tuple[str, Tuple[int, int]]]:
    """(title, (width, height)) of each source whose size can be read without exporting it."""
    out = []
    for source in sources:
        if "file" in source:
            size = QImageReader(source["file"]).size()   # reads the header only
            if size.isValid():
                out.append((title(source), (size.width(), size.height())))
        else:
            for node, _ in nodes(document, [source]):
                rect = node.bounds()
                if not rect.isEmpty():
                    out.append((node.name(), (rect.width(), rect.height())))
    return out
