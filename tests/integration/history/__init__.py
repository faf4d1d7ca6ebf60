"""Tests of the history backfill and the import_history action."""
