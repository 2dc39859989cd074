"""Krita's settings file (KConfig's ini dialect): set or remove one key, read one, leave every other line."""

import os
from typing import List, Optional


def read_ini_value(path: str, section: Optional[str], key: str) -> Optional[str]:
    """key's value in [section] (None: the lines before the first section, KConfig's default group)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    current: Optional[str] = None
    for line in lines:
        text = line.strip()
        if text.startswith("[") and text.endswith("]"):
            current = text[1:-1]
        elif current == section and "=" in text and text.split("=", 1)[0].strip() == key:
            return text.split("=", 1)[1].strip()
    return None


def set_ini_value(path: str, section: str, key: str, value: Optional[str]) -> None:
    """Set (or with value None, remove) key in [section] of a KConfig file, leaving the rest as it is."""
    lines: List[str] = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    entry = [] if value is None else ["%s=%s" % (key, value)]
    heads = [i for i, line in enumerate(lines) if line.strip().startswith("[")] + [len(lines)]
    first = next((i + 1 for i in heads[:-1] if lines[i].strip() == "[%s]" % section), None)
    if first is None:
        if entry:
            lines += ([""] if lines and lines[-1].strip() else []) + ["[%s]" % section] + entry
    else:
        end = min(i for i in heads if i >= first)
        body = lines[first:end]
        found = [i for i, line in enumerate(body) if line.split("=", 1)[0].strip() == key]
        at = found[0] if found else len(body)
        while not found and at > 0 and not body[at - 1].strip():   # before the blank line ending the section
            at -= 1
        body = [line for i, line in enumerate(body) if i not in found]
        lines[first:end] = body[:at] + entry + body[at:]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
