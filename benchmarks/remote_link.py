"""A 4096x4096 layer through ssh over a 50 Mbit/s link, raw against PNG, side by side.

    .venv/bin/python benchmarks/remote_link.py [--mbit 50] [--side 4096]

A throwaway sshd on 127.0.0.1 (tests/ssh_server.py) is reached through benchmarks/slow_link.py as
ssh's ProxyCommand, which limits each direction to --mbit.  The plugin's Controller (PyQt5 from
pip, a real QProcess running ssh) sends a --side px content and gets the full-size result, decoded
with Qt as the Krita layer does.  The optimisation itself is tiny (size 64, 2 steps), so the times
are the transfer: "result" is from the last progress message (the optimisation has ended) to the
decoded full-size result; "job" is from submit to that.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import ssh_server  # noqa: E402

from backend import images  # noqa: E402
from helpers import sample  # noqa: E402
from krita_nst import pixels  # noqa: E402
from krita_nst.controller import Controller  # noqa: E402
from krita_nst.core import backends  # noqa: E402
from krita_nst.core.wire import Image  # noqa: E402
from krita_nst.qt import QCoreApplication  # noqa: E402

SETTINGS = {"size": 64, "steps": 2, "preview_every": 1000}
MOSAIC = ("starry_night_google.jpg", "the_scream.jpg", "great_wave_hokusai.jpg", "coffee.png")


def content(side):
    """A detailed side x side BGRA8 picture: the samples at about their own resolution, tiled."""
    import torch
    tile = side // 4
    rows = []
    for r in range(4):
        row = [images.from_wire(images.load_file(sample(MOSAIC[(r + c) % 4])))[0] for c in range(4)]
        rows.append(torch.cat([images.resize(t, tile, tile) for t in row], 3))
    rgb = images.resize(torch.cat(rows, 2), side, side)
    return images.to_wire(rgb, None, "BGRA8")


class Layer:
    """Decodes what arrives exactly as layers.ResultLayer does, and notes when."""

    def __init__(self, side):
        self.node, self.side, self.last_progress, self.result_at, self.received = self, side, 0.0, 0.0, []

    def alive(self):
        return True

    def write(self, image):
        pixels.fit_to(image, image.width, image.height)
        self.received.append((len(image.data), image.width))
        if image.width == self.side:
            self.result_at = time.monotonic()

    def label(self, mark):
        raise SystemExit("the job ended %s: see the backend log" % mark)

    def discard(self):
        pass


def run(app, server, mbit, transfer, picture, style, log):
    proxy = "ProxyCommand=%s %s 127.0.0.1 %d %s" % (sys.executable, os.path.join(ROOT, "benchmarks", "slow_link.py"),
                                                   server.port, mbit)
    where = backends.ssh(backends.parse(server.spec(ROOT), server.options() + " -o '%s'" % proxy))._replace(
        transfer=transfer)
    ctl = Controller(lambda: where, lambda: log)
    try:
        ctl.backend()
        ready = []
        ctl.backend_ready.connect(ready.append)
        while not ready:
            app.processEvents()
            time.sleep(0.01)
        layer = Layer(picture.width)
        start = time.monotonic()
        encoded = pixels.encoded(picture, transfer)
        encode_s = time.monotonic() - start
        job = ctl.submit(picture, [{"image": style, "weight": 1.0}], SETTINGS, layer, "bench")
        job.progress.connect(lambda *_: setattr(layer, "last_progress", time.monotonic()))
        while job.running():
            app.processEvents()
            time.sleep(0.002)
        return {"up MB": len(encoded.data) / 1e6, "down MB": layer.received[-1][0] / 1e6,
                "encode s": encode_s, "job s": layer.result_at - start,
                "result s": layer.result_at - layer.last_progress}
    finally:
        ctl.shutdown()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mbit", type=float, default=50)
    parser.add_argument("--side", type=int, default=4096)
    args = parser.parse_args()
    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    picture, style = content(args.side), images.load_file(sample("starry_night_google.jpg"))
    style = Image(style.width, style.height, "RGBA8", style.data)
    folder = Path(tempfile.mkdtemp(prefix="krita-nst-link-"))
    server = ssh_server.start(folder)
    try:
        rows = {t: run(app, server, args.mbit, t, picture, style, str(folder / "backend.log")) for t in ("raw", "png")}
    finally:
        ssh_server.stop(server)
    print("%dx%d px content and result over ssh through a %g Mbit/s link (each way); %s" % (
        args.side, args.side, args.mbit, "benchmarks/slow_link.py as ProxyCommand"))
    print("| transfer | up MB | down MB | plugin PNG encode s | result s (end of optimisation to decoded) | job s |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        print("| %s | %.1f | %.1f | %.2f | %.1f | %.1f |" % (name, r["up MB"], r["down MB"],
                                                        r["encode s"] if name == "png" else 0.0,
                                                        r["result s"], r["job s"]))


if __name__ == "__main__":
    main()
