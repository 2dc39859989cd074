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


def test_full_resolution_passes_double_up_to_the_layers_own_size():
    assert sizes.passes((512, 384), (2048, 1536)) == [(1024, 768), (2048, 1536)]
    assert sizes.passes((512, 384), (4096, 3072)) == [(1024, 768), (2048, 1536), (4096, 3072)]
    assert sizes.passes((512, 341), (600, 400)) == [(600, 400)]            # a little bigger: one pass at its size
    assert sizes.passes((512, 384), (1200, 900)) == [(1200, 900)]          # 2.3x: not a pass at 1024 first
    assert sizes.passes((512, 384), (512, 384)) == [] and sizes.passes((300, 200), (300, 200)) == []
    assert sizes.full_work((512, 384), (2048, 1536)) == sizes.FULL_COST * sizes.FULL_STEPS * (1024 * 768 + 2048 * 1536)


def test_the_style_resolution_note_names_the_style_its_size_and_a_style_scale_that_would_do():
    assert sizes.style_seen((1280, 1014), (2048, 1536), 1.0) == (1993, 1579)   # as many pixels as the canvas
    assert sizes.style_resolution_note("Starry Night", (1280, 1014), (2048, 1536), 1.0) == ""   # 1.5x: fine
    note = sizes.style_resolution_note("Udnie", (512, 512), (4096, 3072), 1.0)
    assert "Udnie is 512 px" in note and "scaled up 6.9x" in note and "at most 0.28" in note
    assert sizes.style_resolution_note("Udnie", (512, 512), (4096, 3072), 0.28) == ""
