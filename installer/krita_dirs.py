"""Where each Krita on this machine keeps its resources (pykrita/ is in there) and its kritarc.

Krita itself answers this with Krita.getAppDataLocation(): the plugin (or a person) passes that as
--krita-dir. Without it, the installer looks where each way of installing Krita puts them, and reads
kritarc's ResourceDirectory (Settings > Configure Krita > General > Resource folder) over the default."""

import glob
import os
from typing import List, Mapping, NamedTuple, Optional, Tuple

from .kritarc import read_ini_value

PLUGIN = "krita_nst"


class Krita(NamedTuple):
    kind: str          # krita.org, Microsoft Store, macOS, Linux, Flatpak, Snap, given
    resources: str     # the folder holding pykrita/
    kritarc: str


def candidates(system: str, env: Mapping[str, str], home: str) -> List[Krita]:
    """The usual places, in the order a Krita from krita.org (or the distribution, or an AppImage) comes first."""
    if system == "win32":
        roaming = env.get("APPDATA") or os.path.join(home, "AppData", "Roaming")
        local = env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        found = [Krita("krita.org", os.path.join(roaming, "krita"), os.path.join(local, "kritarc"))]
        # The Store's build (MSIX) sees AppData through its package's LocalCache.
        for package in sorted(glob.glob(os.path.join(local, "Packages", "49800Krita*"))):
            cache = os.path.join(package, "LocalCache")
            found.append(Krita("Microsoft Store", os.path.join(cache, "Roaming", "krita"),
                               os.path.join(cache, "Local", "kritarc")))
        return found
    if system == "darwin":
        return [Krita("macOS", os.path.join(home, "Library", "Application Support", "krita"),
                      os.path.join(home, "Library", "Preferences", "kritarc"))]
    data = env.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    config = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    flatpak = os.path.join(home, ".var", "app", "org.kde.krita")
    snap = os.path.join(home, "snap", "krita", "current")
    return [Krita("Linux", os.path.join(data, "krita"), os.path.join(config, "kritarc")),
            Krita("Flatpak", os.path.join(flatpak, "data", "krita"), os.path.join(flatpak, "config", "kritarc")),
            Krita("Snap", os.path.join(snap, ".local", "share", "krita"), os.path.join(snap, ".config", "kritarc"))]


def with_resource_setting(krita: Krita) -> Krita:
    """kritarc's ResourceDirectory (KConfig's default group, before any [section]) moves the resources."""
    custom = read_ini_value(krita.kritarc, None, "ResourceDirectory")
    return krita._replace(resources=custom) if custom else krita


def has_plugin(krita: Krita) -> bool:
    return os.path.isdir(os.path.join(krita.resources, "pykrita", PLUGIN))


def choose(system: str, env: Mapping[str, str], home: str, krita_dir: Optional[str] = None,
           kritarc: Optional[str] = None) -> Tuple[List[Krita], List[str]]:
    """The Kritas to install into, and what to tell about the choice.

    Given --krita-dir: that one. Else every Krita that has the plugin already (imported from the zip, or
    an earlier install); else the first one found; else where a krita.org Krita would look."""
    known = [with_resource_setting(k) for k in candidates(system, env, home)]
    if krita_dir:
        same = [k for k in known if os.path.normcase(os.path.abspath(k.resources))
                == os.path.normcase(os.path.abspath(krita_dir))]
        rc = kritarc or (same[0].kritarc if same else known[0].kritarc)
        return [Krita("given", os.path.abspath(krita_dir), os.path.abspath(rc))], []
    if kritarc:
        return [with_resource_setting(Krita("given", known[0].resources, os.path.abspath(kritarc)))], []
    found = [k for k in known if os.path.isdir(k.resources) or os.path.isfile(k.kritarc)]
    plugged = [k for k in found if has_plugin(k)]
    if plugged:
        return plugged, []
    if found:
        others = ["also found the %s Krita's folder %s: to install there instead, run install.py with "
                  "--krita-dir \"%s\"" % (k.kind, k.resources, k.resources) for k in found[1:]]
        return found[:1], others
    return known[:1], ["no Krita resource folder found (has Krita been started once?): installing into %s, where a "
                       "%s Krita looks. In Krita, Settings > Manage Resources > Open Resource Folder shows the "
                       "real one: pass it with --krita-dir" % (known[0].resources, known[0].kind)]


def sandboxed(krita: Krita, base_python: str) -> Optional[str]:
    """A warning when Krita's sandbox cannot run the venv: Flatpak and Snap give Krita their own /usr, so a
    venv made from the system's /usr/bin/python3 does not start there."""
    if krita.kind not in ("Flatpak", "Snap") or not os.path.realpath(base_python).startswith("/usr/"):
        return None
    return ("the %s Krita runs in a sandbox with its own /usr: the venv made from %s will not start inside it. "
            "Use a Python that lives in your home folder (e.g. `uv python install 3.12`, then run install.py "
            "with that Python), or Krita's AppImage from krita.org." % (krita.kind, base_python))
