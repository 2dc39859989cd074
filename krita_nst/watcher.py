"""One timer for the state Krita gives no signal for: kritarc (a script or the API may set the plugin's
settings) and the active layer's area (libkis has no active-node or selection signal for Python).

Each tick compares a cheap snapshot (Krita keeps kritarc in memory) and emits `changed` with the names
whose value differs, only when one does; listeners update just those.
"""

from typing import Callable, Dict, FrozenSet, Hashable

from .qt import QObject, QTimer, pyqtSignal

INTERVAL_MS = 1000
ACTIVE_AREA = "active area"   # the probe name of the active layer's work rect (api.watcher adds it)


class Watcher(QObject):
    changed = pyqtSignal(object)   # frozenset of probe names

    def __init__(self, probes: Dict[str, Callable[[], Hashable]], interval_ms: int = INTERVAL_MS) -> None:
        super().__init__()
        self._probes = dict(probes)
        self._last = self._snapshot()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)

    def _snapshot(self) -> Dict[str, Hashable]:
        return {name: probe() for name, probe in self._probes.items()}

    def value(self, name: str) -> Hashable:
        """What the probe read at the last check."""
        return self._last[name]

    def check(self) -> FrozenSet[str]:
        """Read every probe now; emit and return the names that changed (empty: nothing emitted)."""
        now = self._snapshot()
        names = frozenset(name for name, value in now.items() if self._last.get(name) != value)
        self._last = now
        if names:
            self.changed.emit(names)
        return names

    def stop(self) -> None:
        self._timer.stop()
