"""Live mode in a real Krita: from the end of a brush stroke to the updated live layer, and how long
the plugin (and anything else) held Krita's UI thread.

    .venv/bin/python benchmarks/krita_live.py [--live-size N] [--krita 5.1|5.2|5.3|6.0] [--runs N]
        [--canvas 4096x3072/U16]

The end-to-end driver's live scenario (tests/krita_driver): a 451x300 content layer (or --canvas), live mode on,
a first update, then a stroke over ~3 % of the layer painted with setPixelData; the time is from
that call to the live layer showing the update (to within the driver's 50 ms tick).  The plugin's
own worst UI-thread block (polling checksums, exporting and sending a job, writing results) is
measured inside the plugin; the worst UI gap is a 10 ms timer's longest wait, whoever caused it
(Krita redraws included).
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
    parser.add_argument("--live-size", default=None, help="the live_size setting (default: the device's)")
    parser.add_argument("--krita", default=krita_harness.HOST, help="which Krita (default: the host's)")
    parser.add_argument("--runs", type=int, default=1, help="run the scenario this many times")
    parser.add_argument("--canvas", default="451x300/U8", help="the document: WIDTHxHEIGHT/DEPTH (U8, U16, F32)")
    args = parser.parse_args()
    settings = {"live_size": args.live_size} if args.live_size else {}
    for _ in range(args.runs):
        once(settings, args.krita, args.canvas)


def once(settings, krita, canvas):
    with tempfile.TemporaryDirectory() as tmp:
        results, _ = krita_harness.run(Path(tmp), "live", settings, krita=krita, timeout=900,
                                       KRITA_NST_E2E_CANVAS=canvas)
    if not results.get("ok"):
        sys.exit(results.get("error") or json.dumps(results))
    live = results["live"]
    print("live mode, settings %s, Krita %s, canvas %s:"
          % (settings or "defaults", results["versions"]["krita"], canvas))
    print("  end of stroke -> live layer updated: %.2f s" % live["stroke_to_update_s"])
    print("  plugin's worst UI-thread block:      %.1f ms (%s)" % (
        live["max_block_ms"], ", ".join("%s %.1f" % kv for kv in live["blocks_ms"].items())))
    print("  worst UI-thread gap (anyone):         %.0f ms (%.0f ms until the update)"
          % (live["ui_worst_gap_ms"], live["ui_gap_to_update_ms"]))
    print("  live mode off while updating -> idle: %.2f s" % live["off_seconds"])


if __name__ == "__main__":
    main()
