"""Paths and small helpers shared by the tests, the Krita harness and the benchmarks (no pytest needed)."""

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(os.path.dirname(REPO), "shared", "samples")


def sample(name: str) -> str:
    """The path of a public sample image in ../shared/samples; a clear failure when it is missing."""
    path = os.path.join(SAMPLES, name)
    if not os.path.exists(path):
        raise FileNotFoundError("sample image %s is missing: the tests need ../shared/samples beside the checkout"
                                % path)
    return path


def venv_python() -> str:
    return os.path.join(REPO, ".venv", "Scripts" if os.name == "nt" else "bin", "python")


def child_env() -> dict:
    """The environment for a backend child process, as the plugin makes it (no PYTHONPATH)."""
    from krita_nst.client import STRIPPED_ENV  # the plugin's own list (imports Qt: only when called)
    env = dict(os.environ)
    for name in STRIPPED_ENV:
        env.pop(name, None)
    return env
