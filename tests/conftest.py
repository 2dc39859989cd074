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
