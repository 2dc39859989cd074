"""Run right after Krita exits, in Krita's PID namespace: `python3 leftovers.py OUT`.

Writes OUT/leftovers.json: the krita-nst backends started by that Krita (`--parent-pid` its pid,
from OUT/results.json) still alive after a few seconds' grace.  Standard library only: it runs
under the Python of whichever Debian root Krita ran in.
"""

import json
import os
import sys
import time


def backends(parent_pid: int) -> list:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
            with open("/proc/%s/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:   # gone meanwhile
            continue
        if state != "Z" and b"backend" in args and b"serve" in args and str(parent_pid).encode() in args:
            found.append(int(pid))
    return found


def main(out: str) -> None:
    try:
        with open(os.path.join(out, "results.json")) as f:
            parent = int(json.load(f)["krita_pid"])
    except (OSError, ValueError, KeyError):
        parent = -1
    deadline = time.monotonic() + 5.0
    while backends(parent) and time.monotonic() < deadline:
        time.sleep(0.1)
    with open(os.path.join(out, "leftovers.json"), "w") as f:
        json.dump({"krita_pid": parent, "backends": backends(parent)}, f)


if __name__ == "__main__":
    main(sys.argv[1])
