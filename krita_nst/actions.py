"""The plugin's actions: their ids (as in krita_nst.action) and the shortcuts the artist gave them."""

from krita import Krita

STYLIZE = "krita_nst_stylize"
SET_STYLE = "krita_nst_set_style"
CANCEL = "krita_nst_cancel"
LIVE = "krita_nst_live"
FINISH = "krita_nst_finish"
STYLIZE_ANIMATION = "krita_nst_stylize_animation"
TEXTS = {STYLIZE: "Stylize Layer", SET_STYLE: "Use Active Layer as Style", CANCEL: "Cancel Stylize",
         LIVE: "Live Style Transfer", FINISH: "Finish at Full Resolution", STYLIZE_ANIMATION: "Stylize Animation"}


def trigger(name: str) -> None:
    Krita.instance().action(name).trigger()


def set_checked(name: str, checked: bool) -> None:
    """Show a checkable action's state without running it (e.g. live mode ended by itself)."""
    action = Krita.instance().action(name)
    if action is not None and action.isChecked() != checked:
        action.blockSignals(True)
        action.setChecked(checked)
        action.blockSignals(False)


def hint(name: str) -> str:
    """"Stylize Layer (Ctrl+Alt+Shift+N)", with the shortcut as it is set now (the artist may change it)."""
    action = Krita.instance().action(name)
    shortcut = action.shortcut().toString() if action is not None else ""
    return "\u201c%s\u201d%s" % (TEXTS[name], " (%s)" % shortcut if shortcut else "")
