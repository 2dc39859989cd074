"""Scenario setup_backend: the plugin with no backend, set up from its docker (Set up backend…, the Python it
finds, the krita-nst folder and a venv the artist types in, Install), then a Stylize; screenshots of the docker
and the window along the way (krita_nst/manual/ comes from these)."""

import os
import time

from krita import Krita

from .common import OUT, QApplication, choose_style, results, run_job, save_png, start_document, wait


def docker():
    from krita_nst import docker as nst_docker
    found = [w for w in QApplication.allWidgets() if isinstance(w, nst_docker.StyleDocker)]
    return found[0] if found else None


def grab(widget, name):
    widget.grab().save(os.path.join(OUT, name))


def scenario_setup_backend():
    app = Krita.instance()
    yield wait(lambda: docker() is not None and docker().isVisible(), 20, "the docker, shown on first use")
    panel = docker().setup
    record = results["setup"] = {"docker_shown_flag": app.readSetting("krita_nst", "docker_shown", ""),
                                 "offered": not panel.isHidden() and panel.setup_button.isVisible(),
                                 "button": panel.setup_button.text(), "note": panel.note.text(), "progress": []}
    panel.installer.progress.connect(lambda percent, what: record["progress"].append([percent, what]))
    panel.setup_button.click()
    yield wait(lambda: panel.python_edit.text() or "No Python" in panel.stage.text(), 60, "a Python found")
    record["python"], record["python_stage"] = panel.python_edit.text(), panel.stage.text()
    record["folder_known"] = panel.folder_edit.text()
    panel.folder_edit.setText(os.environ["KRITA_NST_E2E_REPO"])   # the artist picks the checkout
    panel.venv_edit.setText(os.environ["KRITA_NST_E2E_VENV"])     # and a throwaway venv
    started = time.monotonic()
    panel.install_button.click()
    record["running"] = panel.installer.running()
    yield wait(lambda: panel.installer.percent >= 10 or not panel.installer.running(), 120, "torch being installed")
    grab(docker(), "docker_setup.png")
    yield wait(lambda: not panel.installer.running(), 400, "install.py to finish")
    record["seconds"] = time.monotonic() - started
    record.update(stage=panel.stage.text(), output=panel.output.toPlainText().splitlines()[-8:],
                  hidden_after=panel.isHidden(), status=docker().status.text())
    from krita_nst import config
    record["backend_problem"] = config.backend_problem()
    yield wait(lambda: docker().device.text().startswith("Backend: cpu"), 120, "the backend's hello")
    record["device"] = docker().device.text()
    doc, content, style = yield from start_document()
    yield from choose_style(doc, style)
    run = results["run"] = {}
    job = yield from run_job(doc, content, "action", run)
    if job.state == "done":
        save_png(content, "content.png")
        save_png(job.layer, "result.png")
    yield wait(lambda: "Done in" in docker().status.text(), 10, "the docker saying done")
    grab(docker(), "docker.png")
    grab(app.activeWindow().qwindow(), "window.png")
