"""krita-nst: neural style transfer for Krita.

Inside Krita this only registers the extension (actions) and the docker.  Outside Krita (the
backend imports `krita_nst.wire` and `krita_nst.settings`) nothing Krita-specific is imported.
"""

__version__ = "0.2.0"   # the release: the plugin and the backend of one checkout share it

try:
    import krita
    IN_KRITA = True
except ImportError:  # imported by the backend or the tests
    IN_KRITA = False

if IN_KRITA:
    from .docker import DOCKER_ID, StyleDocker
    from .extension import StyleExtension

    _app = krita.Krita.instance()
    _app.addExtension(StyleExtension(_app))
    _position = getattr(krita.DockWidgetFactoryBase, "DockPosition", krita.DockWidgetFactoryBase).DockRight
    _app.addDockWidgetFactory(krita.DockWidgetFactory(DOCKER_ID, _position, StyleDocker))
