"""What each of the plugin's UI-thread steps costs in a real Krita, on a big or deep document.

    .venv/bin/python benchmarks/krita_costs.py [--canvas 4096x3072/U8 4096x3072/U16 ...] [--krita 5.1|...|6.0]

The driver's `costs` scenario (tests/krita_driver): a document of that size and depth (a content
and a style layer), then the best of a few runs of each step the plugin takes on Krita's UI thread:
live mode's poll, exporting layers for a job, writing a result.  Where they exceed the 50 ms a
live update may hold the UI, this shows which one to attack.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
import krita_harness  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canvas", nargs="+", default=["4096x3072/U8", "4096x3072/U16"])
    parser.add_argument("--krita", default=krita_harness.HOST, help="which Krita (default: the host's)")
    args = parser.parse_args()
    rows = {}
    for canvas in args.canvas:
        with tempfile.TemporaryDirectory() as tmp:
            results, _ = krita_harness.run(Path(tmp), "costs", {}, krita=args.krita, timeout=900,
                                           KRITA_NST_E2E_CANVAS=canvas)
        if not results.get("ok"):
            sys.exit(results.get("error") or "no results for %s" % canvas)
        rows[canvas] = results["costs"]
        version = results["versions"]["krita"]
    print("Krita %s; ms, best of a few runs" % version)
    print("| step | " + " | ".join(rows) + " |")
    print("|---|" + "---|" * len(rows))
    for step in next(iter(rows.values())):
        if step != "space":
            print("| %s | %s |" % (step, " | ".join(str(r[step]) for r in rows.values())))


if __name__ == "__main__":
    main()
