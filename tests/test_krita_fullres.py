"""Full resolution end to end in Krita 5.1 and 6.0: a 2048 px layer painted at its own size pass by pass, with
previews throughout; a cancel in the last pass keeps that pass and frees the plugin; undo removes it in one step."""

import pytest

from krita_harness import MAIN, run_krita


@pytest.mark.parametrize("krita", MAIN)
def test_a_2048_px_layer_at_full_resolution_cancelled_in_its_last_pass_then_undone(tmp_path, krita):
    results, _ = run_krita(tmp_path, "fullres", krita, timeout=900)
    record = results["fullres"]
    stages = [stage for _, stage, _ in record["stages"]]
    for size in ("512x384", "1024x768", "2048x1536"):
        assert any(s and s.startswith("full resolution %s" % size) for s in stages), stages
    fractions = [f for _, _, f in record["stages"] if f is not None]
    assert fractions == sorted(fractions) and 0 < fractions[-1] < 1, fractions    # the work done, by cost
    # previews throughout, at the layer's size: after every step of every pass (a step at 2048 px takes ~20 s
    # on a 2-core CPU, minutes on a loaded one: the bound is what a loaded CI machine needs)
    times = [t for t, _, _ in record["previews"]]
    assert len(times) >= 12 and max(b - a for a, b in zip(times, times[1:])) < 300, record["previews"]
    assert all(size == [2048, 1536] for _, *size in record["previews"])
    assert record["state"] == "cancelled" and record["name"].endswith("[cancelled]"), record
    assert record["cancel_seconds"] < 10 and not record["busy"], record     # free again at once
    assert record["bounds"] == [2048, 1536]         # the last pass's own pixels, not a working-size preview
    assert record["docker"] and all("Full resolution 2048x1536 (pass 3 of 3)" in s and "left" in s
                                    for s in record["docker"]), record["docker"]
    assert record["after"] == record["before"][:2] + [record["name"]] + record["before"][2:] or \
        record["name"] in record["after"], record["after"]
    assert record["after_undo"] == record["before"] and record["content_untouched"], record
