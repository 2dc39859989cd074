"""Soak test: many small jobs back to back in one warm backend; does its memory stay flat?

    .venv/bin/python benchmarks/soak.py [--jobs 50] [--size 256] [--steps 20] [--log] [--ssh]
    nice -n 19 .venv/bin/python benchmarks/soak.py --varying [--jobs 120]    # memory across image sizes

Starts `python -m backend serve` as the plugin does, sends the jobs one after another over the
wire, and after each prints the backend's resident memory (VmRSS from /proc/<pid>/status, Linux
only) and the peak the job reported. The verdict compares the last 10 jobs with jobs 5-10 (after
the allocator and torch's caches have warmed up): flat when neither the mean nor the top of the
last 10 is more than --tolerance percent above that of jobs 5-10 (the RSS after a job varies by
some percent with the image pair, so single jobs are not compared). Exit status 1 when not flat.
With --ssh the backend runs through ssh to a throwaway sshd on 127.0.0.1 (tests/ssh_server.py), as
the plugin starts it for backend=ssh://..., images as PNG; the RSS is the remote backend's.

With --varying every job has its own size (the content's long side 96-320 px, all distinct), 3-6
steps, every fifth is cancelled after its first progress and every third runs full-resolution passes
(resolution=full, size about half the image's), so the VGG meets new shapes, tiles' too, in each job
(issue 25). It prints the RSS after jobs 1, 10, 60 and 120 and the ratio 120/10 against TARGET:
exit status 1 when beyond it. docs/benchmark.md, "Memory across jobs".
"""

import argparse
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from backend import images  # noqa: E402
from helpers import child_env, sample  # noqa: E402
from krita_nst.core import backends, wire  # noqa: E402

TARGET = 1.15   # --varying: RSS after the last job at most 15 % above that after job 10
PAIRS = [("chelsea.png", "starry_night_google.jpg"), ("astronaut.png", "the_scream.jpg"),
         ("coffee.png", "udnie_picabia.jpg"), ("rocket.jpg", "great_wave_hokusai.jpg")]


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS for pid %d" % pid)


def verdict(rss, tolerance):
    """(flat?, a sentence) from the RSS after each job: the last 10 against jobs 5-10, mean and top."""
    if len(rss) < 20:
        return True, "too few jobs (%d) for a verdict" % len(rss)
    warm, last = rss[4:10], rss[-10:]
    mean_growth = 100.0 * (sum(last) / len(last) / (sum(warm) / len(warm)) - 1)
    top_growth = 100.0 * (max(last) / max(warm) - 1)
    xs = range(4, len(rss))
    mx, my = sum(xs) / len(xs), sum(rss[4:]) / len(xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, rss[4:])) / sum((x - mx) ** 2 for x in xs)
    flat = max(mean_growth, top_growth) <= tolerance
    return flat, ("jobs 5-10: mean %.0f, top %.0f MiB; last 10: mean %.0f (%+.1f%%), top %.0f MiB (%+.1f%%); "
                  "trend %+.2f MiB/job; tolerance %.0f%%: %s"
                  % (sum(warm) / len(warm), max(warm), sum(last) / len(last), mean_growth, max(last), top_growth,
                     slope, tolerance, "FLAT" if flat else "GROWING"))


def varying(n):
    """Job n's (long side, settings, cancel?) for --varying: sides 96-320 px, all distinct for 225 jobs."""
    side = 96 + (n * 97) % 225
    full = n % 3 == 1
    settings = {"size": max(64, side * 11 // 20) if full else side, "steps": 3 + n % 4, "seed": n,
                "preview_every": 2, "resolution": "full" if full else "working"}
    return side, settings, n % 5 == 4


def scaled(content, side, encoding):
    """A content wire image (RGBA8) with its long side `side` px."""
    from PIL import Image as PILImage
    img = PILImage.frombytes("RGBA", (content.width, content.height), bytes(content.data))
    k = side / max(img.size)
    img = img.resize((max(16, round(img.width * k)), max(16, round(img.height * k))), PILImage.LANCZOS)
    return images.encoded(wire.Image(img.width, img.height, "RGBA8", img.tobytes()), encoding)


def growth(rss):
    """The --varying report: RSS after jobs 1, 10, 60 and the last, and whether last/10 is within TARGET."""
    marks = [n for n in (1, 10, 60) if n < len(rss)] + [len(rss)]
    lines = ["RSS after job " + ", ".join("%d: %.0f MiB" % (n, rss[n - 1]) for n in marks)]
    if len(rss) < 10:
        return True, lines + ["too few jobs (%d) for the ratio" % len(rss)]
    ratio = rss[-1] / rss[9]
    lines.append("RSS after job %d / after job 10: %.3f; target: within %d %% of after 10: %s"
                 % (len(rss), ratio, round(100 * (TARGET - 1)), "MET" if ratio <= TARGET else "MISSED"))
    return ratio <= TARGET, lines


def ping(proc, lock):
    while proc.poll() is None:
        time.sleep(backends.PING_S)
        with lock:
            try:
                proc.stdin.write(wire.encode(wire.PING))
                proc.stdin.flush()
            except (OSError, ValueError):   # the soak has ended and closed it
                return


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--tolerance", type=float, default=3.0, help="percent")
    parser.add_argument("--log", action="store_true", help="show the backend's log (stderr)")
    parser.add_argument("--ssh", action="store_true", help="through ssh to a throwaway sshd on 127.0.0.1")
    parser.add_argument("--varying", action="store_true",
                        help="each job its own size (96-320 px), some cancelled, some at full resolution (tiles)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("soak.py reads /proc/<pid>/status: Linux only", file=sys.stderr)
        return 2
    encoding = "png" if args.ssh else "raw"
    pairs = []
    for content_name, style_name in PAIRS:
        content = images.load_file(sample(content_name))
        if not args.varying:
            content = images.encoded(wire.Image(content.width, content.height, "BGRA8", content.data), encoding)
        pairs.append((content,
                      [{"image": images.encoded(images.load_file(sample(style_name)), encoding), "weight": 1.0}]))
    server = None
    argv = [sys.executable, "-m", "backend", "serve"]
    if args.ssh:
        import tempfile
        from pathlib import Path

        import ssh_server
        server = ssh_server.start(Path(tempfile.mkdtemp(prefix="krita-nst-soak-")))
        argv = list(backends.ssh(backends.parse(server.spec(ROOT), server.options())).argv)
    proc = subprocess.Popen(argv, cwd=ROOT, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=None if args.log else subprocess.DEVNULL)
    try:
        hello = wire.read_message(proc.stdout, "the backend's stdout")
        assert hello is not None and hello.type == wire.HELLO, hello
        pid = server.remote_backends()[0] if server else proc.pid
        lock = threading.Lock()
        if server:   # as the plugin does over ssh: the remote backend leaves a silent link
            threading.Thread(target=ping, args=(proc, lock), daemon=True).start()
        print("backend %s on %s%s; idle RSS %.0f MiB" % (hello["backend_version"], hello["device"],
                                                          " through ssh" if server else "", rss_mib(pid)))
        print("%4s %8s %10s %10s %s" % ("job", "seconds", "peak MiB", "RSS MiB", "size" if args.varying else ""))
        rss, peaks, start = [], [], time.perf_counter()
        for n in range(args.jobs):
            content, styles = pairs[n % len(pairs)]
            settings = {"size": args.size, "steps": args.steps, "seed": n, "preview_every": 4}
            side, cancel = 0, False
            if args.varying:
                side, settings, cancel = varying(n)
                content = scaled(content, side, encoding)
            with lock:
                proc.stdin.write(wire.encode(wire.JOB, id=n, content=content, styles=styles, settings=settings,
                                             encoding=encoding))
                proc.stdin.flush()
            began = time.perf_counter()
            while True:
                message = wire.read_message(proc.stdout, "the backend's stdout")
                if message is None:
                    raise RuntimeError("the backend exited during job %d" % n)
                if message.type == wire.PROGRESS and cancel:
                    with lock:
                        proc.stdin.write(wire.encode(wire.CANCEL, id=n))
                        proc.stdin.flush()
                    cancel = False
                if message.type in (wire.RESULT, wire.ERROR, wire.CANCELLED):
                    break
            if message.type not in (wire.RESULT, wire.CANCELLED) or (message.type == wire.CANCELLED
                                                                     and not args.varying):
                raise RuntimeError("job %d: %s" % (n, message))
            # The backend frees the job's memory right after sending the result (--varying: and gives the heap
            # back, malloc_trim, which on a busy machine takes longer than 50 ms).
            time.sleep(0.5 if args.varying else 0.05)
            rss.append(rss_mib(pid))
            peaks.append(message.get("peak_memory_mib") or 0)
            what = "" if not args.varying else "%d px %s%s" % (side, settings["resolution"],
                                                               ", cancelled" if message.type == wire.CANCELLED else "")
            seconds = message.get("seconds") or time.perf_counter() - began
            print("%4d %8.2f %10.0f %10.0f %s" % (n + 1, seconds, peaks[-1], rss[-1], what), flush=True)
        print("%d jobs in %.0f s; peaks %.0f-%.0f MiB" % (args.jobs, time.perf_counter() - start, min(peaks),
                                                          max(peaks)))
        if args.varying:
            met, lines = growth(rss)
            print("\n".join(lines))
            return 0 if met else 1
        flat, sentence = verdict(rss, args.tolerance)
        print("verdict: " + sentence)
        return 0 if flat else 1
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if server:
            ssh_server.stop(server)


if __name__ == "__main__":
    sys.exit(main())
