"""The release: the plugin, the backend and the installer of one checkout share it (the backend's
hello says it, and the plugin refuses a backend of another release)."""

VERSION = "0.2.0"
