"""The benchmark of scripts/bench (not part of the test run)."""
