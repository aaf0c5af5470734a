"""Shared kernel: errors, money, time, networks, signing. Apps import it; it imports no app."""
