"""Command line: `python -m backend serve` for the plugin; `stylize` (an image) and `animate` (frames) for people."""

import argparse
import glob
import logging
import os
import sys
import time
from typing import Any, Dict

from krita_nst.core.settings import SETTINGS


def _add_settings(parser):
    for s in SETTINGS:
        flag = "--" + s.name.replace("_", "-")
        kwargs: Dict[str, Any] = dict(dest=s.name, default=None,
                                      help=("%s (default: %s)" % (s.help or s.label, s.default)).replace("%", "%%"))
        if s.choices:
            kwargs["choices"] = s.choices
        parser.add_argument(flag, type=str, **kwargs)


def _progress_bar(progress, width=30, prefix=""):
    done = int(width * progress.step / max(1, progress.total))
    losses = " ".join("%s %.3g" % (k, v) for k, v in progress.losses.items() if k != "total")
    return "%s[%s%s] %d/%d %s %5.1fs  %s " % (prefix, "#" * done, "." * (width - done), progress.step,
                                            progress.total, progress.stage, progress.seconds, losses)


def _show(progress, prefix=""):
    """The progress bar, redrawn in place on a terminal; into a log or pipe, one plain line per preview (and
    the last step), not a carriage-return animation."""
    if sys.stderr.isatty():
        sys.stderr.write("\r" + _progress_bar(progress, prefix=prefix))
    elif progress.image is not None or progress.step == progress.total:
        sys.stderr.write(_progress_bar(progress, prefix=prefix).rstrip() + "\n")
    sys.stderr.flush()


def _newline():
    """What ends a progress bar drawn in place before another message (nothing after plain lines)."""
    return "\n" if sys.stderr.isatty() else ""


def stylize_command(args):
    from . import device, engine, images, jobs
    from .errors import InputError
    from .model import WeightsError, load_vgg19
    settings = {s.name: getattr(args, s.name) for s in SETTINGS if getattr(args, s.name) is not None}
    weights = args.style_weight or [1.0] * len(args.style)
    if len(weights) != len(args.style):
        print("error: %d style images but %d --style-weight values" % (len(args.style), len(weights)), file=sys.stderr)
        return 2
    try:
        content = images.load_file(args.content)
        styles = [(images.load_file(path), w) for path, w in zip(args.style, weights)]
    except OSError as exc:
        print("error: cannot read image: %s" % exc, file=sys.stderr)
        return 2
    if args.previews:
        os.makedirs(args.previews, exist_ok=True)
    try:
        runtime = device.choose(args.device, args.precision)
        model = load_vgg19(args.weights, engine.ALL_LAYERS).to(runtime.device)
        print("krita-nst on %s" % runtime.description, file=sys.stderr)
        for progress, image in jobs.run(model, runtime, content, styles, settings):
            if progress.note:
                print("note: %s" % progress.note, file=sys.stderr)
            if not args.quiet:
                _show(progress)
            if image is not None and progress.done:
                images.save_file(image, args.output)
            elif image is not None and args.previews:
                images.save_file(image, os.path.join(args.previews, "step%05d.png" % progress.step))
    except (InputError, WeightsError, ValueError) as exc:
        print("%serror: %s" % (_newline(), exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("%scancelled" % _newline(), file=sys.stderr)
        return 130
    print("%ssaved %s (%.1f s)" % (_newline(), args.output, progress.seconds),
          file=sys.stderr)
    return 0


FRAME_TYPES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")


def frame_files(where):
    """The frame files of a folder (image files, in name order) or a glob pattern (sorted)."""
    if os.path.isdir(where):
        names = sorted(n for n in os.listdir(where) if n.lower().endswith(FRAME_TYPES))
        return [os.path.join(where, n) for n in names]
    return sorted(p for p in glob.glob(where) if os.path.isfile(p))


def animate_command(args):
    """Stylise a sequence of frame files into OUT_DIR (same names), coherent from frame to frame."""
    from krita_nst.animation_plan import of_sequence

    from . import animation, device, engine, images
    from .errors import InputError
    from .model import WeightsError, load_vgg19
    settings = {s.name: getattr(args, s.name) for s in SETTINGS if getattr(args, s.name) is not None}
    paths = frame_files(args.frames)
    if not paths:
        print("error: no frame images in %s" % args.frames, file=sys.stderr)
        return 2
    try:
        frames = [images.load_file(path) for path in paths]
        style = images.load_file(args.style)
    except OSError as exc:
        print("error: cannot read image: %s" % exc, file=sys.stderr)
        return 2
    empty = [not any(f.data[3::4]) for f in frames]   # load_file gives RGBA8: all alpha 0
    plan = of_sequence([f.data for f in frames], empty)
    os.makedirs(args.output, exist_ok=True)
    began = time.perf_counter()
    try:
        runtime = device.choose(args.device, args.precision)
        model = load_vgg19(args.weights, engine.ALL_LAYERS).to(runtime.device)
        print("krita-nst on %s: %d frames, %d to stylise" % (runtime.description, len(paths),
                                                            sum(not f.empty for f in plan)), file=sys.stderr)
        for frame in plan:   # blank frames are copied through as they are
            for t in range(frame.time, frame.until + 1) if frame.empty else ():
                images.save_file(frames[t], os.path.join(args.output, os.path.basename(paths[t])))
        sent = [None if f.empty else frames[f.time] for f in plan]
        for index, progress, image in animation.run(model, runtime, sent, [(style, 1.0)], settings):
            if not args.quiet:
                _show(progress, "frame %d/%d " % (index + 1, len(plan)))
            if image is not None and progress.done:
                frame = plan[index]
                for t in range(frame.time, frame.until + 1):   # a held frame: its result for each file
                    images.save_file(image, os.path.join(args.output, os.path.basename(paths[t])))
                if not args.quiet and sys.stderr.isatty():
                    sys.stderr.write("\n")
    except (InputError, WeightsError, ValueError) as exc:
        print("%serror: %s" % (_newline(), exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("%scancelled: the frames done are in %s" % (_newline(), args.output), file=sys.stderr)
        return 130
    print("saved %d frames in %s (%.1f s)" % (len(paths), args.output, time.perf_counter() - began), file=sys.stderr)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m backend", description="krita-nst: neural style transfer backend")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--weights", help="VGG19 weights: the bundled Caffe file (default) or a torchvision state dict")
    common.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    common.add_argument("--precision", default="auto", help="auto, fp32, bf16 or fp16")
    common.add_argument("-v", "--verbose", action="store_true")

    p = sub.add_parser("serve", parents=[common], help="speak the wire format on stdin/stdout (for the plugin)")
    p.add_argument("--parent-pid", type=int, default=0, help="exit when this process exits")
    p.add_argument("--link-timeout", type=float, default=0,
                   help="exit when stdin is silent this many seconds (over ssh: the plugin pings; 0: never)")

    p = sub.add_parser("stylize", parents=[common], help="stylise an image file")
    p.add_argument("content")
    p.add_argument("style", nargs="+")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--style-weight", type=float, action="append", help="blend weight per style, in order")
    p.add_argument("--previews", help="folder to save previews into")
    p.add_argument("-q", "--quiet", action="store_true")
    _add_settings(p)

    p = sub.add_parser("animate", parents=[common], help="stylise an animation's frames, coherent from frame to frame")
    p.add_argument("frames", help="a folder of frame images (in name order) or a glob pattern, e.g. 'shot/*.png'")
    p.add_argument("style")
    p.add_argument("-o", "--output", required=True, help="folder to write the frames into, with the same names")
    p.add_argument("-q", "--quiet", action="store_true")
    _add_settings(p)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    if args.command == "serve":
        from .server import serve
        return serve(args.weights, args.device, args.precision, args.parent_pid, link_timeout=args.link_timeout)
    start = time.perf_counter()
    code = animate_command(args) if args.command == "animate" else stylize_command(args)
    logging.debug("total %.1f s", time.perf_counter() - start)
    return code
