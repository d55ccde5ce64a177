"""allegro_sandbox: an independent, offline simulator of the Allegro REST API.

Standalone (no Django). Run with ``python -m allegro_sandbox serve``; see README.md.
"""

__version__ = "1.0.0"
