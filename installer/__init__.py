"""install.py's parts, standard library only (they run before the backend's venv exists):
torch_build (which torch for this machine, installed and then asked what it is), prereqs (the Python
running the installer, the venv's place), krita_dirs (where Krita keeps its resources), kritarc (its
settings file), plugin (the copy Krita loads), backend (venv, weights, demo)."""
