"""The working-size rule (krita_nst/core/sizes.py): the one rule the plugin's estimate and the backend's plan use."""

from krita_nst.core import sizes


def test_the_working_size_never_exceeds_the_layer():
    assert sizes.working_size(2400, 1600, 512) == (512, 341)
    assert sizes.working_size(200, 150, 512) == (200, 150)
    assert sizes.working_size(150, 200, 200) == (150, 200) and sizes.working_size(150, 200, 100) == (75, 100)


def test_fit_keeps_the_aspect_ratio_and_each_side_at_least_one_pixel():
    assert sizes.fit(1000, 300, 100) == (100, 30)
    assert sizes.fit(300, 1000, 2000) == (600, 2000)     # fit may enlarge; working_size never does
    assert sizes.fit(5000, 2, 100) == (100, 1)
