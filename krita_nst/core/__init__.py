"""The core both sides share: the version, the wire format, the settings schema, the working-size
rule and where the backend runs.

Standard library only, and none of it imports Qt or Krita: the plugin (inside Krita's Python), the
backend (in its torch venv) and install.py (any Python 3.8+) import it.  Importing it runs the
package's `__init__`, which registers the plugin only inside Krita (where `krita` imports).
"""
