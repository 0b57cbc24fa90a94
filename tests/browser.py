"""Headless Chromium for the browser tests: Debian's chromium and chromium-driver, driven by Selenium.

Nothing is downloaded: Selenium is given both paths, so its driver manager never
runs. Without them the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

# Flags that work in a sandboxed, offline machine: without the background-networking ones,
# Chromium's own connections to Google are refused and slow every start.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")
INSTALL = "apt-get install chromium chromium-driver, and pip install selenium (the test extra)"


@dataclass(frozen=True)
class Chromium:
    """Where the browser and its driver are."""

    browser: str
    driver: str


def find_chromium() -> Chromium:
    """Return the system Chromium and chromedriver; skip without them, or fail under CI."""
    browser = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing = "selenium"
    else:
        missing = ", ".join(name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path)
    if missing:
        message = f"browser tests need {missing}: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return Chromium(browser, driver)


@contextmanager
def running(chromium: Chromium, javascript: bool = True, size: tuple[int, int] = (1000, 900)):
    """Run a fresh headless Chromium with a profile of its own, quit and removed at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="docsearch-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium.browser
    for flag in (*FLAGS, f"--window-size={size[0]},{size[1]}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromium.driver), options=options)
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_until(driver, condition, timeout: float = 30, message: str = ""):
    """Wait until condition(driver) is truthy and return it, or fail with message."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # An element swapped out by the live update while the condition read it: look again.
    wait = WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(condition, message)


def in_viewport(driver, css: str) -> bool:
    """Tell whether the top of the element css selects is inside the visible part of the page."""
    return driver.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return r.height > 0 && r.top >= 0 && r.top < window.innerHeight && r.bottom > 0;", css)


def set_viewport(driver, width: int, height: int, mobile: bool = False) -> None:
    """Make the page's viewport exactly width x height CSS pixels (a phone's, with mobile)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile})
