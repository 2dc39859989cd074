"""krita-nst backend: Gatys neural style transfer in torch, served to the Krita plugin over stdin/stdout."""
