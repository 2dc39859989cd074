"""The kinds of JSON value each message's header fields may hold (wire.py checks them from the header).

Pure standard library, like wire.py: a wrong kind fails that message alone, before any receiver uses the field
(a list as an id is unhashable; a dict as a pixel format is no format).  The values themselves (ranges, names)
are the receiver's to check.  Fields not named here are not checked: a newer peer may send more.
"""

from typing import Any, Dict, Optional, Tuple

TEXT, WHOLE, NUMBER, FLAG, OBJECT, LIST, IMAGE, NULL = ("text", "a whole number", "a number", "true or false",
                                                        "an object", "a list", "an image", "null")
ID = (TEXT, WHOLE, NULL)
FIELDS: Dict[str, Dict[str, Tuple[str, ...]]] = {   # message type -> field -> the kinds it may hold
    "hello": {"protocol": (WHOLE,), "settings_schema": (TEXT,), "backend_version": (TEXT,),
              "torch_version": (TEXT,), "device": (TEXT,)},
    "job": {"id": ID, "content": (IMAGE, NULL), "styles": (LIST,), "settings": (OBJECT, NULL),
            "encoding": (TEXT,), "key": (TEXT, NULL), "start": (IMAGE, NULL)},
    "animate": {"id": ID, "frames": (LIST,), "styles": (LIST,), "settings": (OBJECT, NULL), "encoding": (TEXT,)},
    "progress": {"id": ID, "step": (WHOLE,), "total": (WHOLE,), "losses": (OBJECT,), "stage": (TEXT,),
                 "seconds": (NUMBER,), "preview": (IMAGE, NULL), "note": (TEXT,), "warm": (FLAG,),
                 "frame": (WHOLE,), "frames": (WHOLE,), "fraction": (NUMBER,)},
    "result": {"id": ID, "image": (IMAGE,), "seconds": (NUMBER,), "steps": (WHOLE,), "losses": (OBJECT,),
               "peak_memory_mib": (NUMBER,), "warm": (FLAG,), "frames": (WHOLE,), "full_resolution": (FLAG,)},
    "frame": {"id": ID, "frame": (WHOLE,), "frames": (WHOLE,), "image": (IMAGE,), "seconds": (NUMBER,),
              "steps": (WHOLE,), "losses": (OBJECT,)},
    "cancel": {"id": ID},
    "ping": {},
    "cancelled": {"id": ID, "step": (WHOLE,), "frames": (WHOLE,)},
    "error": {"id": ID, "message": (TEXT,), "detail": (TEXT,)},
}
STYLE = {"image": (IMAGE,), "weight": (NUMBER,)}
# What a list field holds: the kinds of its elements, or the fields of its objects (other elements: the
# receiver says what they should be).
ITEMS: Dict[Tuple[str, str], Any] = {("job", "styles"): STYLE, ("animate", "styles"): STYLE,
                                     ("animate", "frames"): (IMAGE, NULL)}
MAX_DEPTH = 32   # a header nests this deep at most (real ones: 4); deeper JSON would exhaust the recursion


def kind(value: Any) -> str:
    """The kind of a JSON value, as FIELDS names them."""
    if isinstance(value, bool):
        return FLAG
    if isinstance(value, int):
        return WHOLE
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, dict):
        return IMAGE if "$image" in value else OBJECT
    return {str: TEXT, list: LIST, type(None): NULL}.get(type(value), "?")


def _is(value: Any, kinds: Tuple[str, ...]) -> bool:
    found = kind(value)
    return found in kinds or (found == WHOLE and NUMBER in kinds)   # 2 is a number too


def is_id(value: Any) -> bool:
    """Whether a field can be a message's id (and so be echoed back and kept in a set)."""
    return _is(value, ID)


def _wrong(where: str, value: Any, kinds: Tuple[str, ...]) -> str:
    allowed = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
    return "%s must be %s, not %.100r" % (where, allowed, value)


def fields_problem(type: str, fields: Dict[str, Any]) -> Optional[str]:
    """Why one of a message's fields (or an element of a list field, ITEMS) is of the wrong kind; None if none is."""
    for name, kinds in FIELDS.get(type, {}).items():
        if name in fields and not _is(fields[name], kinds):
            return _wrong(name, fields[name], kinds)
        items: Any = ITEMS.get((type, name))
        for i, item in enumerate(fields.get(name) or ()) if items else ():
            where = "%s[%d]" % (name, i)
            if isinstance(items, tuple):
                if not _is(item, items):
                    return _wrong(where, item, items)
            elif kind(item) == OBJECT:
                wrong = next((f for f, kinds in items.items() if f in item and not _is(item[f], kinds)), None)
                if wrong:
                    return _wrong("%s.%s" % (where, wrong), item[wrong], items[wrong])
    return None
