#!/usr/bin/env python3
"""Set up krita-nst on this machine: the backend's venv and weights, the Krita plugin, a demo.

    python3 install.py                  # everything, then a demo stylisation
    python3 install.py --no-demo        # everything but the demo
    python3 install.py --torch cu126    # a given torch build (auto, cpu, cuda, rocm, xpu, mps, cu1NN, rocmX.Y)
    python3 install.py --uninstall      # take the plugin out of Krita (the venv stays)
    python3 install.py --zip            # write dist/krita_nst-VERSION.zip for Krita's plugin importer
    python3 install.py --remote ssh://me@gpu-box/home/me/krita-nst [--ssh-options "-i KEY"]
                                        # the plugin here, the backend on gpu-box (`--remote local`: back)

Idempotent: run it again after pulling a new version.  Standard library only (installer/ holds its parts).
"""

import argparse
import os
import subprocess
import sys
from typing import List, Optional

from installer import backend, krita_dirs, plugin, prereqs
from installer.console import Fail, say
from installer.kritarc import set_ini_value
from krita_nst.core import backends  # standard library only: the plugin's own parsing of its settings
from krita_nst.core.version import VERSION

ROOT = os.path.dirname(os.path.abspath(__file__))
PLUGIN = krita_dirs.PLUGIN


def use_remote(spec: str, options: Optional[str], kritas: List[krita_dirs.Krita], python: str) -> int:
    """The plugin here, its backend where `spec` says: kritarc's [krita_nst] backend (and ssh_options)."""
    try:
        remote = backends.parse(spec, options or "")
    except backends.BadSpec as exc:
        say(str(exc))
        return 2
    for krita in kritas:
        plugin.install(krita, python)
        if remote is None:
            set_ini_value(krita.kritarc, PLUGIN, "backend", backends.LOCAL)
            set_ini_value(krita.kritarc, PLUGIN, "ssh_options", None)
            say("the plugin uses the backend on this machine again (%s)" % krita.kritarc)
        else:
            set_ini_value(krita.kritarc, PLUGIN, "backend", spec.strip())
            set_ini_value(krita.kritarc, PLUGIN, "ssh_options", (options or "").strip() or None)
            say("the plugin will run its backend on %s, through ssh (%s)" % (remote.host, krita.kritarc))
    if remote is None:
        return 0
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


def parse(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", default=None,
                        help="the backend's venv (default: .venv here; on Windows %%LOCALAPPDATA%%\\krita-nst\\venv)")
    parser.add_argument("--krita-dir", default=None,
                        help="Krita's resource folder, as Krita.getAppDataLocation() or Settings > Manage Resources > "
                             "Open Resource Folder shows it (default: found among the usual places)")
    parser.add_argument("--kritarc", default=None, help="Krita's settings file (default: that Krita's)")
    parser.add_argument("--torch", default="auto", metavar="BUILD",
                        help="torch build: auto (default: from nvidia-smi, rocminfo, the GPUs' names, the platform), "
                             "cpu, cuda, rocm, xpu, mps, or an index's name such as cu126 or rocm6.4")
    parser.add_argument("--torch-spec", default=None, help="override the torch requirement, e.g. 'torch==2.13.0'")
    parser.add_argument("--torch-index", default=None,
                        help="package index URL for torch (default: PyTorch's index for the build, e.g. "
                             "https://download.pytorch.org/whl/cu126, or PyPI where its wheel is that build)")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo stylisation")
    parser.add_argument("--uninstall", action="store_true", help="remove the plugin from Krita")
    parser.add_argument("--zip", nargs="?", const=os.path.join(ROOT, "dist"), metavar="DIR",
                        help="only write the plugin zip for Krita's importer into DIR (default: dist/)")
    parser.add_argument("--remote", metavar="SPEC", default=None,
                        help="run the backend on another machine: ssh://[user@]host[:port]/path/to/krita-nst "
                             "(where install.py ran), or `local`; installs only the plugin here")
    parser.add_argument("--ssh-options", default=None, help="with --remote: ssh flags, e.g. '-i ~/.ssh/gpu_key'")
    return parser.parse_args(argv)


def steps(args: argparse.Namespace) -> int:
    if args.zip:
        say("wrote %s: in Krita, Tools \u25b8 Scripts \u25b8 Import Python Plugin from File..., restart Krita, "
            "then run install.py without --zip for the backend" % plugin.make_zip(args.zip, VERSION))
        return 0
    kritas, notes = krita_dirs.choose(sys.platform, os.environ, os.path.expanduser("~"), args.krita_dir, args.kritarc)
    for note in notes:
        say(note)
    if args.uninstall:
        for krita in kritas:
            plugin.uninstall(krita)
        return 0
    venv = os.path.abspath(args.venv or prereqs.default_venv(ROOT, sys.platform, os.environ))
    if args.remote is not None:
        return use_remote(args.remote, args.ssh_options, kritas, backend.venv_python(venv))
    prereqs.check_python()
    prereqs.check_venv_path(venv, sys.platform, prereqs.long_paths_enabled())
    python = backend.install(venv, args.torch, args.torch_spec, args.torch_index)
    backend.fetch_weights(python)
    for krita in kritas:
        plugin.install(krita, python)
        backend.warn_sandbox(krita)
    if not args.no_demo:
        say("demo picture: %s" % backend.demo(python))
    keys = plugin.default_shortcuts()
    say("done. In Krita: select the style layer and press %s, select the layer to repaint and press %s "
        "(%s cancels, %s turns live mode on and off). Settings: Settings \u25b8 Dockers \u25b8 Neural Style "
        "Transfer." % (keys["krita_nst_set_style"], keys["krita_nst_stylize"], keys["krita_nst_cancel"],
                       keys["krita_nst_live"]))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse(argv)
    try:
        return steps(args)
    except Fail as exc:
        say("cannot go on: %s" % exc)
        return 2
    except subprocess.CalledProcessError as exc:
        say("stopped: `%s` exited with %s (its message is above); run install.py again once that is fixed"
            % (" ".join(str(a) for a in exc.cmd), exc.returncode))
        return 1


if __name__ == "__main__":
    sys.exit(main())
