"""Where one optimisation step's time goes, at one scale, on this device.

    .venv/bin/python benchmarks/profile_step.py [--size 512] [--repeat 5]

Each part is timed alone (median of --repeat), in one process, on astronaut x The Starry Night:
the VGG's forward+backward (bf16 autocast, upstream gradients given: the network's own work), the
loss terms on top of it (Gram matrices and losses in fp32, and their backward), the cancel checks,
L-BFGS's own work with a full history, a preview, and the whole step as the engine runs it.
"""

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
SAMPLES = os.path.join(os.path.dirname(ROOT), "shared", "samples")

import torch  # noqa: E402

from backend import device, engine, images, lbfgs, losses, plan  # noqa: E402
from backend.model import load_vgg19  # noqa: E402


def timed(parts, repeat):
    """Median seconds of each (name, fn), measured round-robin so that a passing disturbance hits all alike."""
    for _, fn in parts:
        fn()  # warm-up: oneDNN builds its kernels for a new shape on first use
    times = {name: [] for name, _ in parts}
    for _ in range(repeat):
        for name, fn in parts:
            tick = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - tick)
    return [(name, statistics.median(times[name])) for name, _ in parts]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    runtime = device.choose()
    model = load_vgg19(None, engine.ALL_LAYERS).to(runtime.device)

    def load(name):
        return images.from_wire(images.load_file(os.path.join(SAMPLES, name)))[0]

    content = images.scale_to(load("astronaut.png"), args.size)
    style = load("starry_night_google.jpg")
    h, w = content.shape[-2:]
    scale = plan.Scale(h, w, 1, [plan.style_size(style.shape[-2:], (h, w), 1.0)])
    content_features = engine.content_target(model, runtime, content, lambda: None)
    grams = engine.style_targets(model, runtime, [style], [1.0], scale.style_sizes, lambda: None)
    content_scale, layer_weights = losses.balance(content_features, grams, engine.STYLE_LAYER_WEIGHTS)
    weights = (content_scale, layer_weights, losses.style_weight(50), engine.TV_SCALE)
    x = content.clone().contiguous().requires_grad_(True)

    with runtime.autocast():
        shapes = model(runtime.prepare(x), engine.ALL_LAYERS, "avg")
    upstream = [torch.randn_like(f) * 1e-3 for f in shapes.values()]

    def vgg_only():
        with runtime.autocast():
            features = model(runtime.prepare(x), engine.ALL_LAYERS, "avg")
        torch.autograd.backward(list(features.values()), upstream)

    def full(check):
        def run():
            x.grad = None
            loss, terms = engine.objective(model, runtime, x, content_features, grams, weights, check)
            loss.backward()
            [t.item() for t in terms.values()]
        return run

    def loss_terms():
        features = {k: v.detach().requires_grad_(True) for k, v in shapes.items()}
        c = content_scale * engine.losses.content_loss(features[engine.CONTENT_LAYER], content_features)
        s = engine.losses.style_loss(features, grams, layer_weights)
        loss = c + weights[2] * s + weights[3] * engine.losses.tv_loss(x)
        loss.backward()

    def fp32_grams(run):
        def wrapped():
            gram = engine.losses.gram
            engine.losses.gram = _old_gram
            try:
                run()
            finally:
                engine.losses.gram = gram
        return wrapped

    optimizer = lbfgs.LBFGS(torch.zeros(x.numel()), gamma=1.0)
    noise = torch.randn(x.numel())

    def fake_closure():
        optimizer.x.grad = noise * optimizer.x.abs().add(1)   # a gradient that changes with x
        return torch.zeros(())

    for _ in range(lbfgs.HISTORY + 2):
        optimizer.step(fake_closure)
    preview = lambda: images.to_wire(engine._finish(x, content, {"preserve_colors": "none"}),  # noqa: E731
                                     None, "RGBA8")
    parts = timed([
        ("VGG forward+backward (bf16, gradients given)", vgg_only),
        ("loss terms alone: Grams, losses, TV and their backward", loss_terms),
        ("whole objective + backward, no cancel checks", full(None)),
        ("whole objective + backward, with cancel checks", full(lambda: None)),
        ("whole objective + backward, Grams as before (fp32 copy, autograd's backward)",
         fp32_grams(full(lambda: None))),
        ("L-BFGS's own work, history %d (%d values)" % (lbfgs.HISTORY, x.numel()),
         lambda: optimizer.step(fake_closure)),
        ("a preview (to the CPU, to 8-bit wire image)", preview),
    ], args.repeat)
    step = _engine_step(model, runtime, content, style, args.repeat)
    print("Step profile at %dx%d on %s, %d threads (median of %d):" % (w, h, runtime.description,
                                                                     torch.get_num_threads(), args.repeat))
    print("| part | seconds | share of the VGG pass |")
    print("|---|---|---|")
    vgg = parts[0][1]
    for name, seconds in parts:
        print("| %s | %.3f | %.0f %% |" % (name, seconds, 100 * seconds / vgg))
    print("| one engine step (scales=1, median after the first) | %.3f | %.0f %% |" % (step, 100 * step / vgg))
    return parts


def _old_gram(features):
    """The Gram matrix as it was before: an fp32 copy of the maps (NCHW), autograd's bmm backward."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w).float()
    return torch.bmm(f, f.transpose(1, 2)) / (h * w)


def _engine_step(model, runtime, content, style, repeat):
    settings = {"size": max(content.shape[-2:]), "steps": repeat + 1, "scales": 1, "preview_every": 1000}
    times, tick = [], time.perf_counter()
    for _ in engine.stylize(model, runtime, content, [(style, 1.0)], settings):
        times.append(time.perf_counter() - tick)
        tick = time.perf_counter()
    return statistics.median(times[1:-1])


if __name__ == "__main__":
    main()
