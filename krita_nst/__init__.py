"""krita-nst: neural style transfer for Krita.

Register-only: inside Krita this adds the extension (actions) and the docker; anywhere else (the
backend, install.py and the tests import `krita_nst.core`) it does nothing.
"""

import importlib.util

if importlib.util.find_spec("krita") is not None:   # inside Krita
    import krita

    from .docker import DOCKER_ID, StyleDocker
    from .extension import StyleExtension

    _app = krita.Krita.instance()
    _app.addExtension(StyleExtension(_app))
    _position = getattr(krita.DockWidgetFactoryBase, "DockPosition", krita.DockWidgetFactoryBase).DockRight
    _app.addDockWidgetFactory(krita.DockWidgetFactory(DOCKER_ID, _position, StyleDocker))
