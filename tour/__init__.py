"""A browser tour of the integration on a real Home Assistant (``python -m tour``)."""
