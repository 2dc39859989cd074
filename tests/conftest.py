"""Session fixtures: the real VGG19 and the device, loaded once."""

import pytest


@pytest.fixture(scope="session")
def vgg():
    """The real VGG19 from the bundled Caffe weights, loaded once for the session."""
    from backend import engine
    from backend.model import load_vgg19
    return load_vgg19(None, engine.ALL_LAYERS)


@pytest.fixture(scope="session")
def runtime():
    from backend import device
    return device.choose()


def pytest_terminal_summary(terminalreporter):
    """Which Kritas the end-to-end tests ran in, with the versions they reported."""
    import krita_harness
    for asked, seen in sorted(krita_harness.SEEN.items()):
        terminalreporter.write_line("Krita %s (asked for %s): Qt %s, PyQt %s, Python %s" % (
            seen.get("krita"), asked, seen.get("qt"), seen.get("pyqt"), seen.get("python")))
