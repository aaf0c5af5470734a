"""Fixtures of the first-hour walks: Debian's Chromium against the live server, one
screenshot folder per test, and the demo sign-ins of `seeddemo --demo-accounts`."""

import io
import shutil

import pytest
from django.core.management import call_command
from django.db import connections

from tests.browser.walk import Walk
from tests.support.browser import ARTIFACTS, launch


@pytest.fixture
def demo(transactional_db):
    """The quick start's demo data and sign-ins (`seeddemo --demo-accounts`)."""
    call_command("seeddemo", "--demo-accounts", stdout=io.StringIO())


@pytest.fixture
def walk(request, live_server, transactional_db, monkeypatch):
    """A fresh Chromium page on the live server; requests to any other host are refused and
    recorded. Screenshots go to test-artifacts/first-hour/<test>/."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse
    # ORM calls. They are safe here: the test's queries run between page actions, and the
    # live server answers the browser from its own thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    folder = ARTIFACTS / "first-hour" / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            person = Walk(page=page, base=live_server.url, folder=folder)

            def route(route):
                if person.is_ours(route.request.url):
                    route.continue_()
                else:
                    person.outside.append(route.request.url)
                    route.abort()

            context.route("**/*", route)
            yield person
        finally:
            # While that loop runs, Django keeps the test's connections per context (asgiref's
            # Local): close them here, or the test database cannot be dropped at the end.
            connections.close_all()
            browser.close()
