"""The job settings schema: one definition for the plugin's panel, kritarc, the CLI and the backend.

Pure standard library, like the wire format beside it: it runs inside Krita's embedded Python and
in the backend's venv.  The backend's hello message carries `fingerprint()`, so a plugin and a
backend that disagree about the settings find out before a job is sent.
"""

import hashlib
import json
import math
from typing import Any, Dict, Iterable, Optional, Tuple


class Setting:
    """One job setting: its type, default and range, shared by the plugin's panel, the CLI and the backend."""

    __slots__ = ("name", "type", "default", "low", "high", "choices", "label", "help")

    def __init__(self, name: str, type: type, default: Any, low: Optional[float] = None,
                 high: Optional[float] = None, choices: Optional[Tuple[str, ...]] = None, label: str = "",
                 help: str = "") -> None:
        self.name, self.type, self.default = name, type, default
        self.low, self.high, self.choices, self.label, self.help = low, high, choices, label, help

    def parse(self, value: Any) -> Any:
        """Check a value (or its text, as stored in a settings file); raise ValueError with a readable message."""
        try:
            if self.type is bool:
                if isinstance(value, str):
                    if value.strip().lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                        raise ValueError
                    value = value.strip().lower() in ("true", "1", "yes", "on")
                value = bool(value)
            elif self.type is str:
                value = str(value)
            else:
                if isinstance(value, bool):
                    raise ValueError
                value = self.type(float(value)) if self.type is int and isinstance(value, str) else self.type(value)
        except (TypeError, ValueError, OverflowError):   # int(inf) overflows
            raise ValueError("%s must be %s, not %r" % (self.name, self._describe(), value)) from None
        if isinstance(value, float) and not math.isfinite(value):  # NaN passes every range check
            raise ValueError("%s must be a finite number, not %r" % (self.name, value))
        if self.choices is not None and value not in self.choices:
            raise ValueError("%s must be one of %s, not %r" % (self.name, ", ".join(self.choices), value))
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueError("%s must be between %s and %s, not %s" % (self.name, self.low, self.high, value))
        return value

    def _describe(self) -> str:
        if self.type is bool:
            return "true or false"
        return {int: "a whole number", float: "a number", str: "text"}[self.type]


SETTINGS = (
    Setting("size", int, 512, 64, 8192, label="Size",
            help="Longest side in pixels that the optimisation works at; the result is scaled to the layer."),
    Setting("steps", int, 100, 1, 10000, label="Steps",
            help="Optimisation steps over all scales together; fewer is faster, more is finer."),
    Setting("strength", float, 50.0, 0.0, 100.0, label="Strength",
            help="0 keeps the content, 100 is all style; each 10 points multiply the style weight by ~3."),
    Setting("style_scale", float, 1.0, 0.1, 4.0, label="Style scale",
            help="Size of the style's brush strokes relative to the content; above 1 gives bigger strokes."),
    Setting("preserve_colors", str, "none", choices=("none", "luminance", "histogram"), label="Keep colours",
            help="Keep the content's colours: transfer only luminance, or match the style's colours to the "
                 "content first."),
    Setting("init", str, "content", choices=("content", "noise", "blend"), label="Start from",
            help="What the optimisation starts from: the content, noise, or a blend of both."),
    Setting("optimizer", str, "lbfgs", choices=("lbfgs", "adam"), label="Optimiser"),
    Setting("pooling", str, "avg", choices=("avg", "max"), label="Pooling",
            help="VGG pooling; Gatys et al. prefer average pooling."),
    Setting("smoothness", float, 1.0, 0.0, 100.0, label="Smoothness",
            help="Total-variation weight: higher removes speckle noise, too high blurs."),
    Setting("scales", int, 0, 0, 6, label="Scales",
            help="Coarse-to-fine pyramid levels; 0 picks them from the size (halving down to about 100 px)."),
    Setting("resolution", str, "auto", choices=("auto", "full", "working"), label="Resolution",
            help="Layers bigger than the working size: full goes on, pass by pass, up to the layer's own size "
                 "(the style's texture at 100 %); working stops at the working size and scales up; auto is full "
                 "where this device finishes it within a few minutes (a GPU: always)."),
    Setting("detail", float, 1.0, 0.0, 1.0, label="Detail",
            help="What is still scaled up (resolution working, live mode): how much of the layer's own fine "
                 "detail the result keeps (0: a smooth upscale of the work)."),
    Setting("temporal", float, 100.0, 0.0, 10000.0, label="Temporal",
            help="Animation: how strongly each frame keeps the previous one's strokes where they moved to; "
                 "0 stylises every frame on its own (it flickers)."),
    Setting("seed", int, 0, 0, 2 ** 31 - 1, label="Seed", help="Same seed, same settings, same device: same picture."),
    Setting("preview_every", int, 10, 1, 1000, label="Preview every",
            help="Send a preview after this many steps."),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}

# The plugin's own settings: in kritarc beside the job settings, never sent to the backend.
PLUGIN_SETTINGS = (
    Setting("feather", int, 4, 0, 256, label="Feather",
            help="Soft edge in pixels given to a hard-edged selection; feathered selections keep their own."),
    Setting("style_file", str, "", label="Style file",
            help="An image file used as the style by documents with no style of their own (the last one picked)."),
    Setting("live_size", int, 0, 0, 4096, label="Live size",
            help="Longest side live mode works at; 0 picks it from the device: 768 on a GPU, 256 on a CPU "
                 "(less on a CPU that the runs so far show to be slow)."),
)


def check_settings(values: Dict[str, Any]) -> Dict[str, Any]:
    """All settings, defaults filled in; ValueError naming the first bad or unknown one."""
    unknown = sorted(set(values) - set(SETTINGS_BY_NAME))
    if unknown:
        raise ValueError("unknown setting(s): %s (known: %s)" % (", ".join(unknown), ", ".join(SETTINGS_BY_NAME)))
    return {s.name: s.parse(values[s.name]) if s.name in values else s.default for s in SETTINGS}


def fingerprint(settings: Iterable[Setting] = SETTINGS) -> str:
    """A short hash of the schema (names, types, defaults, ranges, choices): equal on both sides or a mismatch."""
    described = [[s.name, s.type.__name__, s.default, s.low, s.high, list(s.choices or ())] for s in settings]
    return hashlib.sha256(json.dumps(described).encode("utf-8")).hexdigest()[:16]
