"""The docker's style section: the chosen sources with thumbnails and blend weights, and the ways
to choose: the active layer(s), an image file, or a painting from the bundled gallery."""

from typing import Any, List, Optional

from krita import Document

from . import actions, api, layers, styles
from .qt import (
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QIcon,
    QImage,
    QLabel,
    QPixmap,
    QPushButton,
    QSize,
    Qt,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

THUMB = 40
FILES = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif)"


def thumbnail(document: Optional[Document], source: styles.Source) -> Any:
    """A small picture of a source: the file's, or the layer's as Krita renders it."""
    if "file" in source:
        pixmap = QPixmap(source["file"])
    else:
        found = styles.nodes(document, [source]) if document is not None else []
        pixmap = QPixmap.fromImage(found[0][0].thumbnail(THUMB, THUMB)) if found else QPixmap()
    if pixmap.isNull():
        return QPixmap.fromImage(QImage(THUMB, THUMB, QImage.Format.Format_ARGB32))
    return pixmap.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class StylePanel(QWidget):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        self.rows = QVBoxLayout()
        layout.addLayout(self.rows)
        buttons = QHBoxLayout()
        self.use_layers = QPushButton("Use active layer(s)")
        self.use_layers.clicked.connect(lambda: actions.trigger(actions.SET_STYLE))
        self.use_file = QPushButton("File\u2026")
        self.use_file.setToolTip("Use an image file as the style")
        self.use_file.clicked.connect(self._pick_file)
        buttons.addWidget(self.use_layers)
        buttons.addWidget(self.use_file)
        layout.addLayout(buttons)
        gallery = QHBoxLayout()
        for title, path in styles.gallery():
            button = QToolButton()
            button.setIcon(QIcon(QPixmap(path)))
            button.setIconSize(QSize(THUMB, THUMB))
            button.setToolTip("Style: " + title)
            button.clicked.connect(lambda _checked=False, p=path: self._choose([styles.from_file(p)]))
            gallery.addWidget(button)
        gallery.addStretch(1)
        layout.addLayout(gallery)
        self.weights: List[Any] = []
        self._weighing = False   # a weight being edited: no rebuild under its spin box

    def refresh(self) -> None:
        """Show the active document's style sources (called when they or the document change)."""
        if self._weighing:
            return
        while self.rows.count():
            item = self.rows.takeAt(0)
            row = item.layout()
            while row is not None and row.count():
                widget = row.takeAt(0).widget()
                if widget is not None:
                    widget.deleteLater()
        document = layers.active_document()
        sources = api.style_sources(document)
        self.label.setText("Style: " + (", ".join(styles.title(s) for s in sources) if sources else "none chosen"))
        self.weights = []
        for index, source in enumerate(sources):
            row = QHBoxLayout()
            picture = QLabel()
            picture.setPixmap(thumbnail(document, source))
            row.addWidget(picture)
            row.addWidget(QLabel(styles.title(source)), 1)
            if len(sources) > 1:   # blend weights only mean something with several
                weight = QDoubleSpinBox()
                weight.setRange(0.0, 10.0)
                weight.setSingleStep(0.1)
                weight.setValue(source["weight"])
                weight.setToolTip("This style's share in the blend")
                weight.valueChanged.connect(lambda v, i=index: self._weigh(i, v))
                row.addWidget(weight)
                self.weights.append(weight)
            self.rows.addLayout(row)

    def _choose(self, sources: List[styles.Source]) -> None:
        document = layers.active_document()
        if document is not None:
            api.set_style_sources(document, sources)

    def _weigh(self, index: int, value: float) -> None:
        document = layers.active_document()
        sources = api.style_sources(document)
        if document is not None and index < len(sources):
            sources[index]["weight"] = value
            self._weighing = True
            try:
                api.set_style_sources(document, sources)
            finally:
                self._weighing = False

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Style image", "", FILES)
        if path:
            self._choose([styles.from_file(path)])
