"""What the installer says, and the one way it stops on a mistake (a message, never a traceback)."""

import subprocess
from typing import Any, List


class Fail(Exception):
    """A problem the person running the installer must fix; main() prints it and exits 2."""


def say(text: str) -> None:
    print("[install] " + text, flush=True)


def warn(text: str) -> None:
    print("[install] WARNING: " + text, flush=True)


def run(cmd: List[str], **kwargs: Any) -> None:
    say("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kwargs)
