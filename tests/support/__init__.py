"""Test machinery shared by the suites that run real processes (tests/faults, tests/e2e)."""
