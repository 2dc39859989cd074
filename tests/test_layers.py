"""krita_nst/layers.py against the fake Krita: the area a run works on, reading and writing layers."""

import pytest

import fake_krita  # installs itself as `krita`: first
from krita_nst import layers
from krita_nst.core.wire import Image

krita = fake_krita.krita   # the fixture


def test_layers_are_found_by_id_in_order_and_gone_ones_skipped(krita):
    doc = krita.open()
    a, b = doc.add_layer("A", (1, 1, 1, 255)), doc.add_layer("B")
    assert layers.find_nodes(doc, [layers.node_id(b), "gone", layers.node_id(a)]) == [b, a]
    assert layers.same_node(a, a) and not layers.same_node(a, b) and not layers.same_node(a, None)
    assert layers.is_open(doc) and not layers.is_open(None)
    doc.close()
    assert not layers.is_open(doc)


def test_the_work_area_is_the_layer_or_the_selection_with_context(krita):
    doc = krita.open(400, 300)
    node = doc.add_layer("Content", (9, 9, 9, 255), (10, 10, 380, 280))
    rect, mask = layers.work_area(doc, node, 4)
    assert (rect.x(), rect.y(), rect.width(), rect.height()) == (10, 10, 380, 280) and mask is None
    doc.setSelection(fake_krita.Selection(100, 100, 80, 40))
    rect, mask = layers.work_area(doc, node, 4)
    assert (rect.x(), rect.y(), rect.width(), rect.height()) == (68, 68, 144, 104)   # 32 px of context a side
    assert len(mask) == 144 * 104 and mask[0] == 0 and mask[40 * 144 + 40] == 255
    assert layers.area_key(doc, node) == (layers.node_id(node), 68, 68, 144, 104) and layers.area_key(doc, None) == ()
    doc.setSelection(fake_krita.Selection(0, 0, 5, 5))   # outside the layer
    with pytest.raises(layers.LayerError, match="does not cover any pixel"):
        layers.work_area(doc, node, 4)
    with pytest.raises(layers.LayerError, match="is empty"):
        layers.work_area(doc, doc.add_layer("Empty"), 4)
    with pytest.raises(layers.LayerError, match="No layer"):
        layers.require_pixels(None)


def test_export_gives_8bit_srgb_bgra_of_the_rect_and_refuses_huge_areas(krita):
    doc = krita.open(6, 4)
    node = doc.add_layer("Content", (1, 2, 3, 255), (2, 1, 3, 2))
    image, rect = layers.export(node)
    assert (rect.x(), rect.y(), image.width, image.height, image.format) == (2, 1, 3, 2, "BGRA8")
    assert image.data == bytes((1, 2, 3, 255)) * 6
    with pytest.raises(layers.LayerError, match="megapixels"):
        layers.check_area(node, fake_krita.QRect(0, 0, 20000, 10))


def test_a_result_layer_goes_right_above_its_content_follows_the_mask_and_can_go(krita):
    doc = krita.open(4, 2)
    content = doc.add_layer("Content", (5, 5, 5, 255))
    doc.add_layer("Top")
    rect = fake_krita.QRect(0, 0, 4, 2)
    mask = bytes((255, 0, 255, 0, 255, 255, 0, 0))
    result = layers.ResultLayer(doc, content, "Content \u00d7 Style", rect, mask)
    assert [n.name() for n in doc.rootNode().childNodes()] == ["Content", "Content \u00d7 Style", "Top"]
    result.write(Image(4, 2, "BGRA8", bytes((200, 100, 50, 255)) * 8))
    alphas = bytes(result.node.pixelData(0, 0, 4, 2))[3::4]
    assert alphas == mask and doc.refreshes == 1   # transparent where the selection is not
    assert result.alive()
    result.label("partial")
    assert result.node.name() == "Content \u00d7 Style [partial]"
    result.discard()
    assert not result.alive() and len(doc.rootNode().childNodes()) == 2


def test_the_scanner_sees_a_change_and_keeps_the_content_at_the_working_size(krita, app):
    doc = krita.open(64, 48)
    node = doc.add_layer("Content", (10, 20, 30, 255))
    rect = node.bounds()
    scan = layers.scanner(node, rect, 32)
    assert scan.poll() == 0 and scan.keep.image().width == 32
    node.fill(0, 0, 8, 8, (255, 255, 255, 255))
    assert max(scan.poll() for _ in scan.bands) == 1
    assert layers.fingerprint(node) != layers.fingerprint(doc.add_layer("Other", (10, 20, 30, 255)))
