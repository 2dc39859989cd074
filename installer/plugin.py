"""The plugin's copy in Krita: files, the zip for Krita's importer, backend.json, kritarc's enable key."""

import ast
import json
import os
import shutil
import zipfile
from typing import Dict, List

from .console import say
from .krita_dirs import PLUGIN, Krita
from .kritarc import set_ini_value

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_shortcuts() -> Dict[str, str]:
    """Action id -> default shortcut, from the plugin's .action file (the one place they are set)."""
    import xml.etree.ElementTree as ElementTree
    tree = ElementTree.parse(os.path.join(ROOT, PLUGIN, PLUGIN + ".action"))
    return {a.get("name", ""): a.findtext("shortcut") or "" for a in tree.iter("Action")}


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
    for folder in ("core", "gallery", "manual"):   # the shared core; the style paintings; the Manual's pictures
        path = os.path.join(PLUGIN, folder)
        files += [os.path.join(path, name) for name in sorted(os.listdir(os.path.join(ROOT, path)))
                  if name != "__pycache__" and not name.endswith(".pyc")]
    return files


def make_zip(out_dir: str, version: str) -> str:
    """The plugin as Krita's Tools > Scripts > Import Python Plugin from File... takes it."""
    path = os.path.join(out_dir, "%s-%s.zip" % (PLUGIN, version))
    os.makedirs(out_dir, exist_ok=True)
    with zipfile.ZipFile(path + ".part", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(PLUGIN + "/", b"")   # Krita's importer finds the plugin by its folder entry
        for name in plugin_files():
            z.write(os.path.join(ROOT, name), name.replace(os.sep, "/"))
    os.replace(path + ".part", path)
    return path


def install(krita: Krita, python: str) -> None:
    pykrita = os.path.join(krita.resources, "pykrita")
    target = os.path.join(pykrita, PLUGIN)
    if os.path.isdir(target) and not os.path.exists(os.path.join(target, "backend.json")):
        say("found krita-nst %s already in the %s Krita (imported from its zip): connecting it to this backend"
            % (installed_version(target), krita.kind))
    if os.path.isdir(target):
        shutil.rmtree(target)
    shutil.copytree(os.path.join(ROOT, PLUGIN), target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.action"))
    shutil.copy2(os.path.join(ROOT, PLUGIN + ".desktop"), os.path.join(pykrita, PLUGIN + ".desktop"))
    actions = os.path.join(krita.resources, "actions")
    os.makedirs(actions, exist_ok=True)
    shutil.copy2(os.path.join(ROOT, PLUGIN, PLUGIN + ".action"), os.path.join(actions, PLUGIN + ".action"))
    with open(os.path.join(target, "backend.json"), "w", encoding="utf-8") as f:
        json.dump({"python": os.path.abspath(python), "root": ROOT}, f, indent=1)
    set_ini_value(krita.kritarc, "python", "enable_" + PLUGIN, "true")
    say("plugin installed in %s and enabled in %s" % (target, krita.kritarc))


def uninstall(krita: Krita) -> None:
    for path in (os.path.join(krita.resources, "pykrita", PLUGIN),
                 os.path.join(krita.resources, "pykrita", PLUGIN + ".desktop"),
                 os.path.join(krita.resources, "actions", PLUGIN + ".action")):
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
    if os.path.exists(krita.kritarc):
        set_ini_value(krita.kritarc, "python", "enable_" + PLUGIN, None)
    say("plugin removed from %s; the backend's venv and weights stay (delete them to remove them)"
        % krita.resources)
