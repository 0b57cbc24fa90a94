"""The web form as a person uses it, in headless Chromium against a real server on a loopback port.

A real model, a real index of docs_corpus (and of a small corpus of script
payloads), `docsearch serve` as a process, Debian's Chromium driven by Selenium.
Set DOCSEARCH_SCREENSHOT=path to keep the results page's screenshot (README).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path

import pytest

from .browser import find_chromium, in_viewport, running, set_viewport, wait_until
from .server_process import fetch, serving

QUESTION = "Which 2008 agreement governs the strategic dialogue?"
OTHER_QUESTION = "How many US troops remain in Iraq?"


@pytest.fixture(scope="module")
def chromium():
    """The system Chromium and its driver (skip without them, fail under CI)."""
    return find_chromium()


@pytest.fixture(scope="module")
def site(chromium, docs_index, tmp_path_factory):
    """`docsearch serve` over the session's index of docs_corpus."""
    with serving(["--index-dir", str(docs_index)], tmp_path_factory.mktemp("site") / "server.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser(chromium):
    """One headless Chromium with JavaScript, shared by the module's tests."""
    with running(chromium) as driver:
        yield driver


def api(base: str, question: str, **params) -> list[dict]:
    """Return the API's results for a question, to compare the page with."""
    status, body = fetch(f"{base}/api/search?" + urllib.parse.urlencode({"q": question, **params}))
    assert status == 200, body
    return body["results"]


def sources(driver) -> list[str]:
    """Return the results' source files, read in one script: the live update may swap the
    results between finding an element and reading it, which Selenium reports as stale."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#results .source'), link => link.textContent.trim());")


def first_source_is(expected: str):
    """A wait condition: the first result's source file is the expected one."""
    return lambda driver: sources(driver)[:1] == [expected]


def test_type_a_question_and_submit(site, browser):
    from selenium.webdriver.common.keys import Keys

    browser.get(site + "/")
    assert browser.switch_to.active_element.get_attribute("id") == "q"  # focus in the box on load
    browser.switch_to.active_element.send_keys(QUESTION, Keys.ENTER)
    wait_until(browser, first_source_is("004_68f2a8bcaf0079e8.txt"), message=f"results: {sources(browser)}")
    assert sources(browser) == [hit["source"] for hit in api(site, QUESTION)]
    assert "q=Which+2008+agreement" in browser.current_url
    assert browser.title == f"{QUESTION} – docsearch"


def test_results_update_as_you_type_without_a_reload(site, browser):
    from selenium.webdriver.common.keys import Keys

    browser.get(site + "/")
    browser.execute_script("window.notReloaded = true")
    box = browser.switch_to.active_element
    box.send_keys(QUESTION)  # no Enter: the page updates by itself
    wait_until(browser, first_source_is("004_68f2a8bcaf0079e8.txt"))
    # A new question typed over the old one, with a pause in between so that a request is on its way
    # when the next keys arrive: only the newest answer may end up on the page.
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(OTHER_QUESTION[:12])
    browser.execute_script("return new Promise(done => setTimeout(done, 400))")
    box.send_keys(OTHER_QUESTION[12:])
    expected = [hit["source"] for hit in api(site, OTHER_QUESTION)]
    wait_until(browser, lambda d: sources(d) == expected and "How+many" in d.current_url,
               message=f"results {sources(browser)} at {browser.current_url}, wanted {expected}")
    browser.execute_script("return new Promise(done => setTimeout(done, 1000))")  # no late answer overwrites it
    assert sources(browser) == expected
    assert browser.execute_script("return window.notReloaded") is True
    # The address bar holds the state: the same URL, fetched plainly, gives the same page.
    status, html = fetch(browser.current_url)
    assert status == 200 and re.findall(r'class="source" href="[^"]*">([^<]*)</a>', html) == expected
    assert f'value="{OTHER_QUESTION}"' in html


def test_source_link_opens_the_file_with_the_passage_in_view(site, browser):
    from selenium.webdriver.common.by import By

    hit = api(site, QUESTION, k=1)[0]
    browser.get(f"{site}/?" + urllib.parse.urlencode({"q": QUESTION}))
    browser.find_element(By.CSS_SELECTOR, "#results .source").click()
    wait_until(browser, lambda d: "/doc/" in d.current_url)
    mark = browser.find_element(By.CSS_SELECTOR, f"mark#passage-{hit['id']}")
    assert mark.text == hit["text"]
    assert in_viewport(browser, f"mark#passage-{hit['id']}")
    assert browser.execute_script("return window.scrollY") > 0  # it had to scroll: the passage is line 10
    assert browser.find_element(By.CSS_SELECTOR, ".path").text == hit["source"]
    assert not browser.find_elements(By.CSS_SELECTOR, ".notice")  # the whole file, not the fallback


def test_keyboard_only(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(site + "/")
    browser.switch_to.active_element.send_keys(QUESTION, Keys.ENTER)
    wait_until(browser, first_source_is("004_68f2a8bcaf0079e8.txt"))
    links = [link.get_attribute("href") for link in browser.find_elements(By.CSS_SELECTOR, "#results .source")]
    reached = []
    for _ in range(3 * len(links) + 10):  # each result also has its "more like this" link
        browser.switch_to.active_element.send_keys(Keys.TAB)
        focused = browser.switch_to.active_element
        if "source" in (focused.get_attribute("class") or ""):
            assert focused.value_of_css_property("outline-style") != "none"  # focus is visible
            reached.append(focused.get_attribute("href"))
        if "next" in (focused.get_attribute("class") or ""):
            break
    assert reached == links and len(links) == 10  # every result's source link, in order, then "More results"
    assert browser.switch_to.active_element.text == "More results"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_until(browser, lambda d: "page=2" in d.current_url)
    assert browser.find_element(By.CSS_SELECTOR, "ol.results").get_attribute("start") == "11"


PAGE_WIDTHS = "return [document.documentElement.scrollWidth, window.innerWidth]"


def test_phone_width_has_no_horizontal_scrolling(site, chromium):
    from selenium.webdriver.common.by import By

    with running(chromium, size=(375, 812)) as phone:
        set_viewport(phone, 375, 812, mobile=True)
        phone.get(f"{site}/?" + urllib.parse.urlencode({"q": QUESTION, "group": "file"}))
        assert phone.execute_script("return window.innerWidth") == 375
        assert phone.find_elements(By.CSS_SELECTOR, "#results .source")
        widths = [phone.execute_script(PAGE_WIDTHS)]
        phone.find_element(By.CSS_SELECTOR, "#results .source").click()
        wait_until(phone, lambda d: "/doc/" in d.current_url)
        widths.append(phone.execute_script(PAGE_WIDTHS))
        assert all(scroll <= inner for scroll, inner in widths), widths  # the results page, then a source view


def test_without_javascript_the_form_still_searches(site, chromium):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with running(chromium, javascript=False) as plain:
        plain.get(site + "/")
        assert plain.execute_script("return document.documentElement.dataset.live") is None  # search.js did not run
        plain.find_element(By.ID, "q").send_keys(QUESTION, Keys.ENTER)  # a plain GET submission
        wait_until(plain, lambda d: "q=" in d.current_url)
        assert sources(plain) == [hit["source"] for hit in api(site, QUESTION)]
        plain.find_element(By.CSS_SELECTOR, "a.next").click()
        wait_until(plain, lambda d: "page=2" in d.current_url)
        assert plain.find_element(By.CSS_SELECTOR, "ol.results").get_attribute("start") == "11"
        assert sources(plain) == [hit["source"] for hit in api(site, QUESTION, k=20)][10:]
        hit = api(site, QUESTION, k=20)[10]
        plain.find_element(By.CSS_SELECTOR, "#results .source").click()
        wait_until(plain, lambda d: "/doc/" in d.current_url)
        assert in_viewport(plain, f"mark#passage-{hit['id']}")  # the #anchor scrolls, no script needed


def test_screenshot_of_a_results_page(site, chromium, tmp_path):
    from selenium.webdriver.common.by import By

    target = Path(os.environ.get("DOCSEARCH_SCREENSHOT") or tmp_path / "results.png")
    with running(chromium) as driver:
        set_viewport(driver, 1000, 920)
        driver.get(f"{site}/?" + urllib.parse.urlencode({"q": QUESTION, "k": 5}))
        wait_until(driver, first_source_is("004_68f2a8bcaf0079e8.txt"))
        assert driver.find_element(By.CSS_SELECTOR, "#results mark").is_displayed()
        target.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(target))
    png = target.read_bytes()
    assert png.startswith(b"\x89PNG") and int.from_bytes(png[16:20], "big") == 1000


# --- script payloads in a query and in a corpus file ---------------------------------------------

PAYLOAD_FILE = "<img src=x onerror=window.pwned=4>.txt"
PAYLOAD_TEXT = ("The zebra keeper fed the zebras <script>window.pwned = 1; document.title = 'pwned'</script> "
                "every morning <img src=x onerror=\"window.pwned = 2\"> before the visitors came.\n")
PAYLOAD_QUERY = "zebra <script>window.pwned = 3; document.title = 'pwned'</script>"


@pytest.fixture(scope="module")
def hostile_site(chromium, encoder, tmp_path_factory):
    """`docsearch serve` over a corpus whose file name and text carry script payloads."""
    from docsearch.index import build_index

    base = tmp_path_factory.mktemp("hostile_site")
    (base / "corpus").mkdir()
    (base / "corpus" / PAYLOAD_FILE).write_text(PAYLOAD_TEXT, encoding="utf-8")
    (base / "corpus" / "giraffes.txt").write_text("Giraffes browse the tall acacia trees of the savanna at noon.\n")
    build_index(base / "corpus", base / "index", encoder=encoder)
    with serving(["--index-dir", str(base / "index")], base / "server.log") as url:
        yield url


def assert_no_script_ran(driver) -> None:
    assert driver.execute_script("return window.pwned") is None
    assert driver.title != "pwned"
    blocked = [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]
    assert blocked == []  # escaped, not merely stopped by the policy


def test_script_payloads_do_not_run(hostile_site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(hostile_site + "/")
    browser.get_log("browser")  # start from an empty log
    browser.switch_to.active_element.send_keys(PAYLOAD_QUERY, Keys.ENTER)  # live update: parsed, swapped in
    wait_until(browser, first_source_is(PAYLOAD_FILE), message=f"results: {sources(browser)}")
    assert "<script>window.pwned = 1;" in browser.find_element(By.CSS_SELECTOR, "#results .text").text
    assert browser.find_element(By.ID, "q").get_attribute("value") == PAYLOAD_QUERY
    assert browser.title == f"{PAYLOAD_QUERY} – docsearch"  # the title is text, not markup
    assert_no_script_ran(browser)
    browser.refresh()  # the same state, rendered by the server as a whole page
    wait_until(browser, first_source_is(PAYLOAD_FILE))
    assert_no_script_ran(browser)
    browser.find_element(By.CSS_SELECTOR, "#results .source").click()
    wait_until(browser, lambda d: "/doc/" in d.current_url)
    assert browser.find_element(By.CSS_SELECTOR, ".path").text == PAYLOAD_FILE
    assert browser.find_element(By.CSS_SELECTOR, "mark.passage").text == PAYLOAD_TEXT.strip()
    assert_no_script_ran(browser)
