"""The one owner of each document's style: the choice made in this Krita run, else the one kept in
the document (.kra annotation), else kritarc's `style_file`.  Panels listen to `changed`.
"""

from typing import List, Optional, Tuple

from krita import Document

from . import config, layers, styles
from .qt import QObject, pyqtSignal


class StyleChoice(QObject):
    # The document whose style changed; None: any document that falls back to style_file.
    changed = pyqtSignal(object)

    def __init__(self) -> None:
        super().__init__()
        # (document, sources): a list, as libkis wrappers compare equal but do not hash alike.
        self._chosen: List[Tuple[Document, List[styles.Source]]] = []

    def _this_run(self, document: Document) -> Optional[List[styles.Source]]:
        for doc, sources in self._chosen:
            if doc == document:
                return [dict(s) for s in sources]
        return None

    def sources(self, document: Optional[Document]) -> List[styles.Source]:
        """This document's style sources (copies: editing them changes nothing)."""
        if document is None:
            return []
        chosen = self._this_run(document)
        if chosen is None:
            chosen = styles.load(document)
        fallback = config.read("style_file")
        if not chosen and fallback:
            chosen = [styles.from_file(fallback)]
        return chosen

    def choose(self, document: Document, sources: List[styles.Source]) -> None:
        """Choose this document's style: kept in the document; a file also becomes style_file."""
        sources = styles.valid(sources)
        self._chosen = [(d, s) for d, s in self._chosen if d != document and layers.is_open(d)]
        self._chosen.append((document, [dict(s) for s in sources]))
        styles.save(document, sources)
        files = [s["file"] for s in sources if "file" in s]
        if files and files[0] != config.read("style_file"):
            config.write("style_file", files[0])
            self.changed.emit(None)
        self.changed.emit(document)

    def forget_closed(self) -> None:
        """Drop the choices of closed documents (theirs are in their .kra)."""
        self._chosen = [(d, s) for d, s in self._chosen if layers.is_open(d)]

    def settings_changed(self, names: object) -> None:
        """A slot for the kritarc watcher: a script may set style_file."""
        if isinstance(names, (set, frozenset, list, tuple)) and "style_file" in names:
            self.changed.emit(None)
