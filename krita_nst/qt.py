"""Qt for the plugin: the one module that imports PyQt.  Every other module imports Qt from here.

Krita 6 runs Qt6 and refuses PyQt5; Krita 5 runs Qt5.  Ask Krita which Qt it runs, never try
PyQt6 first: a system PyQt6 would load into a Qt5 Krita and crash it.  Krita 5.3 and 6 answer
through `pykrita.qt_major_version()`; 5.1 and 5.2 lack it and are Qt5.  Outside Krita (the tests)
it is PyQt5 from pip, or the one named by KRITA_NST_QT.

The rest of the plugin writes code that runs on both: scoped enums (`QImage.Format.Format_ARGB32`),
`exec()`, `bytes()` around a QByteArray.
"""

import importlib
import os
from typing import Any


def qt_major() -> int:
    try:
        import pykrita  # Krita's own module, only inside Krita
        return int(pykrita.qt_major_version())
    except (ImportError, AttributeError):
        return int(os.environ.get("KRITA_NST_QT", "5"))


QT_MAJOR = qt_major()
_BINDING = "PyQt%d" % QT_MAJOR
QtCore: Any = importlib.import_module(_BINDING + ".QtCore")
QtGui: Any = importlib.import_module(_BINDING + ".QtGui")
QtWidgets: Any = importlib.import_module(_BINDING + ".QtWidgets")
PYQT_VERSION: str = QtCore.PYQT_VERSION_STR
QT_VERSION: str = QtCore.QT_VERSION_STR

# QtCore
Qt = QtCore.Qt
QObject = QtCore.QObject
QTimer = QtCore.QTimer
QRect = QtCore.QRect
QSize = QtCore.QSize
QProcess = QtCore.QProcess
QProcessEnvironment = QtCore.QProcessEnvironment
QIODevice = QtCore.QIODevice
QBuffer = QtCore.QBuffer
QByteArray = QtCore.QByteArray
QCoreApplication = QtCore.QCoreApplication
QEventLoop = QtCore.QEventLoop
QStandardPaths = QtCore.QStandardPaths
pyqtSignal = QtCore.pyqtSignal
# QtGui
QImage = QtGui.QImage
QImageReader = QtGui.QImageReader
QPainter = QtGui.QPainter
QColorSpace: Any = getattr(QtGui, "QColorSpace", None)   # Qt 5.14 and later
QPixmap = QtGui.QPixmap
QIcon = QtGui.QIcon
QAction = getattr(QtGui, "QAction", None) or QtWidgets.QAction   # moved from QtWidgets in Qt6
# QtWidgets
QApplication = QtWidgets.QApplication
QWidget = QtWidgets.QWidget
QLabel = QtWidgets.QLabel
QPushButton = QtWidgets.QPushButton
QComboBox = QtWidgets.QComboBox
QLineEdit = QtWidgets.QLineEdit
QPlainTextEdit = QtWidgets.QPlainTextEdit
QDockWidget = QtWidgets.QDockWidget
QFileDialog = QtWidgets.QFileDialog
QToolButton = QtWidgets.QToolButton
QSpinBox = QtWidgets.QSpinBox
QDoubleSpinBox = QtWidgets.QDoubleSpinBox
QProgressBar = QtWidgets.QProgressBar
QFormLayout = QtWidgets.QFormLayout
QHBoxLayout = QtWidgets.QHBoxLayout
QVBoxLayout = QtWidgets.QVBoxLayout
QMessageBox = QtWidgets.QMessageBox
