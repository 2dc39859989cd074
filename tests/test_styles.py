"""krita_nst/styles.py against the fake Krita: sources, the .kra annotation, finding and exporting them."""

import pytest

import fake_krita  # installs itself as `krita`: first
from krita_nst import styles
from krita_nst.layers import LayerError

krita = fake_krita.krita   # the fixture


def test_sources_of_layers_and_files_and_their_titles(krita):
    doc = krita.open()
    style = doc.add_layer("Style", (0, 0, 255, 255))
    [source] = styles.from_layers([style], 0.5)
    assert source == {"layer": style.uniqueId().toString(), "name": "Style", "weight": 0.5}
    title, path = styles.gallery()[0]
    assert styles.title(styles.from_file(path)) == title == "The Starry Night (van Gogh, 1889)"
    assert styles.title(styles.from_file("/elsewhere/starry_night.jpg")) == "starry_night.jpg"   # not the gallery's
    assert styles.title(source) == "Style"


def test_only_well_formed_sources_survive_a_file_or_a_setting():
    kept = styles.valid([{"layer": "a", "weight": 2}, {"file": "/f.png"}, {"layer": 3}, {"file": "/g", "weight": "x"},
                         "junk", {"weight": 1.0}])
    assert kept == [{"layer": "a", "weight": 2.0}, {"file": "/f.png", "weight": 1.0}]
    assert styles.valid({"layer": "a"}) == []


def test_the_choice_is_kept_in_the_document_and_a_damaged_one_reads_as_none(krita):
    doc = krita.open()
    assert styles.load(doc) == []
    chosen = [{"layer": "id", "name": "Style", "weight": 0.7}, {"file": "/f.png", "weight": 1.0}]
    styles.save(doc, chosen)
    assert styles.ANNOTATION in doc.annotationTypes() and styles.load(doc) == chosen
    doc.setAnnotation(styles.ANNOTATION, "", b"{not json")
    assert styles.load(doc) == []


def test_layer_sources_are_found_by_id_then_by_name_and_gone_ones_are_left_out(krita):
    doc = krita.open()
    style, other = doc.add_layer("Style", (0, 0, 255, 255)), doc.add_layer("Other", (0, 255, 0, 255))
    sources = styles.from_layers([style], 1.0) + styles.from_layers([other], 2.0)
    assert styles.nodes(doc, sources) == [(style, 1.0), (other, 2.0)]
    reopened = [dict(sources[0], layer="{an id from another session}")]   # a reopened .kra: new ids
    assert styles.nodes(doc, reopened) == [(style, 1.0)]
    other.remove()
    assert styles.nodes(doc, sources) == [(style, 1.0)]


def test_export_reads_layers_and_files_and_names_an_unusable_one(krita, app, tmp_path):
    doc = krita.open(8, 6)
    style = doc.add_layer("Style", (10, 20, 30, 255))
    path = styles.gallery()[1][1]
    [(name, image, weight), (title, picture, _)] = styles.export(doc, styles.from_layers([style], 0.5)
                                                                 + [styles.from_file(path)])
    assert (name, weight, image.width, image.height) == ("Style", 0.5, 8, 6)
    assert image.data[:4] == bytes((10, 20, 30, 255)) and title == "The Scream (Munch, 1893)"
    assert picture.width > 100 and picture.format == "BGRA8"
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(LayerError, match="broken.png cannot be used"):
        styles.export(doc, [styles.from_file(str(broken))])
    style.remove()
    with pytest.raises(LayerError, match="\u201cStyle\u201d is gone"):
        styles.export(doc, styles.from_layers([style]))


def test_the_gallery_paintings_are_at_their_scans_resolution_not_small_copies():
    from helpers import sample
    from krita_nst.qt import QImageReader
    scans = {"starry_night.jpg": "starry_night_google.jpg", "the_scream.jpg": "the_scream.jpg",
             "great_wave.jpg": "great_wave_hokusai.jpg", "udnie.jpg": "udnie_picabia.jpg"}
    for _, path in styles.gallery():
        ours, scan = QImageReader(path).size(), QImageReader(sample(scans[path.rsplit("/", 1)[-1]])).size()
        assert (ours.width(), ours.height()) == (scan.width(), scan.height()), path
    assert max(QImageReader(p).size().height() for _, p in styles.gallery()) == 1528
