"""The settings schema shared by the plugin, the CLI and the backend."""

import math

import pytest

from krita_nst.core import settings
from krita_nst.core.settings import SETTINGS_BY_NAME, Setting, check_settings, fingerprint


def test_settings_defaults_and_errors():
    checked = check_settings({"size": "384", "preserve_colors": "luminance"})
    assert checked["size"] == 384 and checked["steps"] == SETTINGS_BY_NAME["steps"].default
    with pytest.raises(ValueError, match="size must be between"):
        check_settings({"size": 5})
    with pytest.raises(ValueError, match="unknown setting"):
        check_settings({"sizee": 5})
    with pytest.raises(ValueError, match="one of none, luminance, histogram"):
        check_settings({"preserve_colors": "sepia"})
    with pytest.raises(ValueError, match="a whole number"):
        check_settings({"steps": "many"})


@pytest.mark.parametrize("value", [math.nan, "nan", math.inf, "-inf", "NaN"])
def test_non_finite_numbers_are_refused(value):
    # NaN passes every range comparison: a hand-edited kritarc with strength=nan used to reach the engine.
    with pytest.raises(ValueError, match="strength must be a finite number"):
        check_settings({"strength": value})
    with pytest.raises(ValueError, match="style_scale must be a finite number"):
        check_settings({"style_scale": value})
    with pytest.raises(ValueError, match="size must be"):
        check_settings({"size": value})


def test_fingerprint_is_stable_and_follows_every_part_of_the_schema():
    assert fingerprint() == fingerprint(settings.SETTINGS)
    base = list(settings.SETTINGS)
    size = SETTINGS_BY_NAME["size"]
    changed = [
        [Setting("size", int, 640, size.low, size.high) if s is size else s for s in base],   # default
        [Setting("size", int, size.default, size.low, 4096) if s is size else s for s in base],  # range
        base[:-1],                                                                            # one fewer
        base + [Setting("extra", float, 1.0, 0.0, 2.0)],                                      # one more
    ]
    assert len({fingerprint(s) for s in changed} | {fingerprint()}) == len(changed) + 1
    # Labels and help texts are for people: changing them is not a mismatch.
    relabelled = [Setting(s.name, s.type, s.default, s.low, s.high, s.choices, "x", "y") for s in base]
    assert fingerprint(relabelled) == fingerprint()
