import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(os.path.dirname(REPO), "shared", "samples")
sys.path.insert(0, REPO)


def sample(name):
    path = os.path.join(SAMPLES, name)
    if not os.path.exists(path):
        pytest.fail("sample image %s is missing: the tests need ../shared/samples beside the checkout" % path)
    return path


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
