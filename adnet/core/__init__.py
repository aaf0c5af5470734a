"""Shared kernel: errors, money, time, networks and signing, imported by every app and importing none."""
