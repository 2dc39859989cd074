"""krita-nst backend: Gatys neural style transfer in torch, served to the Krita plugin over stdin/stdout."""

from krita_nst import __version__

__all__ = ["__version__"]
