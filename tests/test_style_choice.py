"""krita_nst/style_choice.py: each document's style, from this run's choice, the .kra, or style_file."""

import fake_krita  # installs itself as `krita`: first
from krita_nst import config, styles
from krita_nst.style_choice import StyleChoice

krita = fake_krita.krita   # the fixture
A = [{"layer": "style-a", "name": "A", "weight": 1.0}]
A2 = [{"file": "/p/a2.png", "weight": 0.5}]
B = [{"layer": "style-b1", "name": "B1", "weight": 1.0}, {"layer": "style-b2", "name": "B2", "weight": 2.0}]


def test_choices_are_per_document_kept_in_the_kra_and_said(krita, app):
    a, b = krita.open(name="a"), krita.open(name="b")
    choice, changed = StyleChoice(), []
    choice.changed.connect(changed.append)
    assert choice.sources(a) == [] and choice.sources(None) == []
    choice.choose(a, A)
    choice.choose(b, B)
    assert choice.sources(a) == A and choice.sources(b) == B and changed == [a, b]
    assert styles.load(a) == A and styles.load(b) == B   # saved with the .kra
    choice.sources(a)[0]["weight"] = 9.0   # a copy: the choice stays
    assert choice.sources(a) == A


def test_this_runs_choice_wins_over_the_kra_until_the_document_closes(krita, app):
    a = krita.open(name="a")
    styles.save(a, B)
    choice = StyleChoice()
    assert choice.sources(a) == B   # reopened: the .kra's
    choice.choose(a, A)
    styles.save(a, B)   # the annotation changed behind its back (another script)
    assert choice.sources(a) == A
    a.close()
    choice.forget_closed()
    assert choice.sources(a) == B   # its choice is dropped: what it kept is read again


def test_a_file_becomes_style_file_the_fallback_of_documents_without_a_style(krita, app):
    a, fresh = krita.open(name="a"), krita.open(name="fresh")
    choice, changed = StyleChoice(), []
    choice.changed.connect(changed.append)
    choice.choose(a, A2)
    assert config.read("style_file") == "/p/a2.png" and changed == [None, a]   # None: any falling back
    assert choice.sources(fresh) == [styles.from_file("/p/a2.png")]
    choice.choose(fresh, [])   # an empty choice falls back too
    assert choice.sources(fresh) == [styles.from_file("/p/a2.png")]
    choice.choose(a, A2)   # the same file again: style_file unchanged, nothing more to say
    assert changed == [None, a, fresh, a]
    choice.settings_changed(frozenset({"strength"}))
    choice.settings_changed(frozenset({"style_file"}))   # a script set it (the watcher saw it)
    assert changed[-1] is None and len(changed) == 5
