"""krita-nst: neural style transfer for Krita.

Inside Krita this registers the extension (actions) and the docker.  Outside Krita (the backend
imports `krita_nst.wire`) nothing Krita-specific is imported.
"""

try:
    from krita import DockWidgetFactory, DockWidgetFactoryBase, Krita
except ImportError:  # imported by the backend or the tests for the wire format
    Krita = None

if Krita is not None:
    from .docker import DOCKER_ID, StyleDocker
    from .extension import StyleExtension

    _app = Krita.instance()
    _app.addExtension(StyleExtension(_app))
    _app.addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, StyleDocker))
