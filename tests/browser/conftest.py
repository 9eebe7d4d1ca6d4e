"""Chromium through Playwright's sync API, for the browser SDK's tests.

The tests use Debian's Chromium at /usr/bin/chromium and never download a browser
(`playwright install` is not run anywhere). Without it they fail, not skip: CI
installs it (.ci/run).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module. (Module scope: the sync API runs its own event
    loop, which must be gone before other modules' tests call asyncio.run.)"""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser SDK tests need Debian's Chromium "
            "(apt-get install chromium; .ci/run does it). They never download a browser.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile (its own IndexedDB) per test. Uncaught errors of its pages
    fail the test."""
    ctx = browser.new_context()
    errors: list[str] = []

    def watch(page: Page) -> None:
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

    ctx.on("page", watch)
    yield ctx
    ctx.close()
    assert errors == [], errors


HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's script, from the npm registry by the committed package-lock.json
    (`npm ci` when node_modules is missing or older than the lock file)."""
    script = HERE / "node_modules" / "axe-core" / "axe.min.js"
    lock = HERE / "package-lock.json"
    if not script.exists() or script.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=HERE,
            check=True,
            capture_output=True,
        )
    return script
