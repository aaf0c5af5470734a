"""Debian's Chromium driven by Playwright, headless, with no browser download of its own."""

from pathlib import Path

from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
# The closed network refuses Chromium's background connections; these flags stop them.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def launch(playwright):
    """A headless browser from a sync_playwright() context; screenshots go to ARTIFACTS."""
    ARTIFACTS.mkdir(exist_ok=True)
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
