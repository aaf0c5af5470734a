"""Fixtures of the fault tests: the real-process stack of tests/support/stack.py."""

from tests.support.stack import *  # noqa: F403  (the stack fixture and its report hook)
