"""The playground in a real browser: Debian's headless Chromium, driven by Playwright (no browser
download), types the README's request, switches to the approver, clicks Approve and sees Succeeded.

The screenshot of the end is saved to test-artifacts/playground.png (gitignored) and to the test's
tmp_path. Skipped, saying why, only where no Chromium is installed; .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from bot.playground import stage
from bot.playground.slack.state import BOB
from bot.playground.stage import Playground

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Without the background-networking flags Chromium dials out at start, which a closed network refuses.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="no Chromium at /usr/bin/chromium: `apt-get install chromium chromium-driver` (.ci/run does)",
)


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    async with stage.running(directory=tmp_path) as running:
        yield running
        assert running.slack.violations == []


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()


async def opened(browser: BrowserContext, url: str) -> tuple[Page, list[str]]:
    page = browser.pages[0] if browser.pages else await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(url)
    await expect(page.locator("#status")).to_have_text("live", timeout=15_000)
    return page, errors


async def test_a_request_typed_in_the_browser_is_approved_by_someone_else_and_succeeds(
    playground: Playground, browser: BrowserContext, tmp_path: Path
) -> None:
    page, errors = await opened(browser, playground.url)
    await expect(page.locator(".banner")).to_contain_text("local simulation")
    assert await page.locator("#user").input_value() == "U0123ALICE1"

    await page.fill("#composer textarea", "/carapulse scale checkout to 5 in shop")
    await page.press("#composer textarea", "Enter")
    card = page.locator("article.message", has_text="Plan #1")
    await expect(card).to_contain_text("Awaiting approval", timeout=20_000)

    await page.select_option("#user", BOB)
    await expect(page.locator("#status")).to_have_text("live")
    await card.get_by_role("button", name="Approve").click()
    await expect(card).to_contain_text("Succeeded", timeout=60_000)

    screenshot = await page.screenshot(path=str(tmp_path / "playground.png"), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "playground.png").write_bytes(screenshot)
    assert screenshot.startswith(b"\x89PNG")
    assert playground.kube.deployment("shop", "checkout")["spec"]["replicas"] == 5
    assert errors == []


async def test_text_from_the_bot_and_from_people_is_shown_as_text_never_as_markup(
    playground: Playground, browser: BrowserContext
) -> None:
    page, errors = await opened(browser, playground.url)
    hostile = 'look <img src=x onerror="window.owned=1"> & *bold* <https://example.com|not a link>'
    await page.fill("#composer textarea", hostile)
    await page.press("#composer textarea", "Enter")
    message = page.locator("article.message", has_text="look")
    await expect(message).to_contain_text('look <img src=x onerror="window.owned=1"> & bold <https://')
    assert await message.locator("img").count() == 0
    assert await message.locator("a").count() == 0, "typed angle brackets are text, as Slack escapes them"
    assert await message.locator("b").inner_text() == "bold"
    assert await page.evaluate("window.owned") is None
    assert errors == []
