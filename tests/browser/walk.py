"""A person's walk through the site in Chromium: every page visited is screenshotted and
checked with axe-core, and no page may reach a host other than our own server."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

# Installed by `npm ci` from package-lock.json (the test-browser target runs it).
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# axe-core's impact levels that fail a test; "minor" and "moderate" are left to review.
FAILING_IMPACTS = ("serious", "critical")


def axe_findings(page, waived: tuple[str, tuple[str, ...]] | None = None) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each
    (rule, impact, what it means, and up to five offending elements).

    `waived` is (selector, rules): inside that part of the page those rules are not run;
    everything else, and every other rule there, still is. Only for third-party widgets
    we cannot change (the reason goes beside the call).
    """
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make test-browser does)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    runs: list[tuple[dict | None, dict]] = [(None, {})]
    if waived is not None:
        selector, rules = waived
        runs = [
            ({"exclude": [[selector]]}, {}),
            ({"include": [[selector]]}, {"rules": {rule: {"enabled": False} for rule in rules}}),
        ]
    lines = []
    for context, options in runs:
        violations = page.evaluate(
            """async ([context, options]) =>
                (await (context ? axe.run(context, options) : axe.run(options))).violations""",
            [context, {**options, "resultTypes": ["violations"]}],
        )
        for violation in violations:
            if violation["impact"] not in FAILING_IMPACTS:
                continue
            targets = [json.dumps(node["target"]) for node in violation["nodes"][:5]]
            lines.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']}; "
                f"{len(violation['nodes'])} element(s): {', '.join(targets)}"
            )
    return lines


@dataclass
class Walk:
    """One browser page of one person; `visit` records the page it is on."""

    page: object
    base: str
    folder: Path
    outside: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def goto(
        self,
        path: str,
        name: str,
        *,
        status: int = 200,
        ready: str | None = None,
        waived: tuple[str, tuple[str, ...]] | None = None,
    ):
        """Open a path of our server, insist on its status, wait for the text `ready` when
        the page draws itself with script, and record the page."""
        response = self.page.goto(f"{self.base}{path}")
        assert response is not None and response.status == status, (path, response)
        if ready is not None:
            assert not self.outside, f"{name}: requests outside our server: {self.outside}"
            self.page.get_by_text(ready, exact=True).first.wait_for()
        self.visit(name, waived=waived)
        return response

    def visit(self, name: str, *, waived: tuple[str, tuple[str, ...]] | None = None) -> None:
        """Screenshot the page under test-artifacts/, then fail on a serious accessibility
        violation or a request that left our server."""
        self.page.wait_for_load_state("load")
        shot = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(shot), full_page=True)
        self.shots.append(shot)
        assert not self.outside, f"{name}: requests outside our server: {self.outside}"
        findings = axe_findings(self.page, waived)
        if findings:
            pytest.fail(
                f"axe-core on {name} ({self.page.url}), screenshot {shot}:\n" + "\n".join(findings),
                pytrace=False,
            )

    def sign_in(self, username: str, password: str, *, next_path: str = "/admin/") -> None:
        """The admin's own sign-in form, found by its labels."""
        self.goto(f"/admin/login/?next={next_path}", f"sign-in-{username}")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(lambda url: "/login/" not in url)
        self.visit(f"signed-in-{username}")
        assert self.page.get_by_role("button", name="Log out").count() == 1, username

    def sign_out(self) -> None:
        self.page.context.clear_cookies()

    def is_ours(self, url: str) -> bool:
        """Our server, or a URL that names no host (data:, blob:, about:)."""
        parts = urlsplit(url)
        return parts.scheme in ("data", "blob", "about") or url.startswith(f"{self.base}/")
