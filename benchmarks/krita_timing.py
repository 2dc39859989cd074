"""Time from the stylise shortcut to the first preview and to the result, in a real Krita.

    .venv/bin/python benchmarks/krita_timing.py [--size 512] [--steps N]

A 512x512 content layer (astronaut) and a style layer (Starry Night); the backend is warmed by a
tiny job first, as it is after an artist's first run; then the shortcut is typed with xdotool.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import krita_harness  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default=None, help="the size setting (default: the plugin's default)")
    parser.add_argument("--steps", default=None, help="the steps setting (default: the plugin's default)")
    args = parser.parse_args()
    settings = {k: v for k, v in (("size", args.size), ("steps", args.steps)) if v is not None}
    with tempfile.TemporaryDirectory() as tmp:
        results, _ = krita_harness.run(Path(tmp), "timing", settings)
    if not results.get("ok"):
        sys.exit(results.get("error") or json.dumps(results))
    t = results["timing"]
    print("512x512 layer, settings %s, warm backend:" % (settings or "defaults"))
    print("  shortcut -> first preview: %.2f s" % t["first_preview_from_key_s"])
    print("  shortcut -> final result:  %.2f s (%d previews, state %s)"
          % (t["result_from_key_s"], t["preview_count"], t["state"]))


if __name__ == "__main__":
    main()
