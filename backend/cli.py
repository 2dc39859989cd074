"""Command line: `python -m backend serve` for the plugin, `python -m backend stylize` for people."""

import argparse
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
                                      help="%s (default: %s)" % (s.help or s.label, s.default))
        if s.choices:
            kwargs["choices"] = s.choices
        parser.add_argument(flag, type=str, **kwargs)


def _progress_bar(progress, width=30):
    done = int(width * progress.step / max(1, progress.total))
    losses = " ".join("%s %.3g" % (k, v) for k, v in progress.losses.items() if k != "total")
    return "\r[%s%s] %d/%d %s %5.1fs  %s " % ("#" * done, "." * (width - done), progress.step, progress.total,
                                             progress.stage, progress.seconds, losses)


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
                sys.stderr.write(_progress_bar(progress))
                sys.stderr.flush()
            if image is not None and progress.done:
                images.save_file(image, args.output)
            elif image is not None and args.previews:
                images.save_file(image, os.path.join(args.previews, "step%05d.png" % progress.step))
    except (InputError, WeightsError, ValueError) as exc:
        print("\nerror: %s" % exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ncancelled", file=sys.stderr)
        return 130
    print("\nsaved %s (%.1f s)" % (args.output, progress.seconds), file=sys.stderr)
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

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    if args.command == "serve":
        from .server import serve
        return serve(args.weights, args.device, args.precision, args.parent_pid, link_timeout=args.link_timeout)
    start = time.perf_counter()
    code = stylize_command(args)
    logging.debug("total %.1f s", time.perf_counter() - start)
    return code
