import sys

from . import housekeeping

housekeeping.configure()   # before torch is imported: the per-shape caches' capacities

from .cli import main  # noqa: E402

sys.exit(main())
