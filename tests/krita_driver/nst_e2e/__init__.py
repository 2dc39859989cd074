"""Test driver, loaded as a Krita plugin by tests/test_krita_e2e.py: runs one scenario, writes results, quits.

Scenarios (KRITA_NST_E2E_SCENARIO) live in `runs` (full: action run, shortcut run, busy refusal,
cancel; kill; quit; the release zip; one_run; timing), `documents` (undo, selection, colour models,
every kind of layer), `styles_live` (style sources, live mode), `animation` (Stylize Animation),
`fullres` (a 2048 px layer at full resolution) and `costs` (the UI-thread steps timed);
`setup_backend` (the docker's Set up backend); `common` has their helpers.
"""

import os
import time
import traceback

from krita import Extension, Krita

from . import animation, costs, documents, fullres, runs, setup_backend, styles_live
from .common import OUT, SCENARIO, QTimer, log, results, save_results


def scenario(name):
    for module in (runs, documents, styles_live, costs, animation, fullres, setup_backend):
        if hasattr(module, "scenario_" + name):
            return getattr(module, "scenario_" + name)()
    raise KeyError("no scenario %r" % name)


class Runner:
    def __init__(self, scenario):
        self.scenario, self.pending = scenario, None
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(50)

    def tick(self):
        try:
            if self.pending is not None:
                condition, deadline, what = self.pending
                if not condition():
                    if time.monotonic() > deadline:
                        raise TimeoutError("timed out waiting: %s" % (what or condition))
                    return
            self.pending = next(self.scenario)
        except StopIteration:
            self.finish(True)
        except Exception:
            results["error"] = traceback.format_exc()
            self.finish(False)

    def finish(self, ok):
        self.timer.stop()
        results["ok"] = ok
        window = Krita.instance().activeWindow()
        if window is not None:
            window.qwindow().grab().save(os.path.join(OUT, "screen.png"))
        save_results()
        for doc in Krita.instance().documents():
            doc.setModified(False)
        if SCENARIO != "quit":
            for doc in Krita.instance().documents():
                doc.close()
        log("quitting")
        save_results()
        Krita.instance().action("file_quit").trigger()

class Driver(Extension):
    def setup(self):
        Krita.instance().notifier().windowCreated.connect(self.start)

    def createActions(self, window):
        pass

    def start(self):
        if OUT:
            QTimer.singleShot(1500, lambda: setattr(self, "runner", Runner(scenario(SCENARIO))))


Krita.instance().addExtension(Driver(Krita.instance()))
