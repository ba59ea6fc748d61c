"""report.html in a real headless Chromium (Debian's chromium + chromium-driver, through
selenium): it opens offline with no console error and no request, shows every figure, sorts a
table when a header is clicked, and the ``<script>`` in a hypothesis shows as text and never
runs. A screenshot is kept in $STT_EVAL_ARTIFACTS (else the test's tmp dir)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from stt_eval.api import report
from stt_eval.run.directory import rows_frame

from .test_html_report import FAKE_KEY, ROWS, SCRIPT, write_run

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1366,900",
)
"""Chromium as these machines run it offline (no background requests to Google's hosts)."""


@pytest.fixture
def browser(tmp_path):
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.skip(
            "chromium / chromedriver not installed: apt-get install chromium chromium-driver"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium (dev extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def _column(driver, table, name: str) -> list[str]:
    heads = [th.text.rstrip(" ▲▼") for th in table.find_elements("css selector", "thead th")]
    i = heads.index(name)
    return [
        row.find_elements("css selector", "td")[i].text
        for row in table.find_elements("css selector", "tbody tr")
    ]


@pytest.mark.slow
def test_the_report_opens_offline_sorts_and_runs_no_injected_script(browser, tmp_path, monkeypatch):
    from stt_eval.report.figures import plots

    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    html_path, *_ = report(write_run(tmp_path))
    browser.get("about:blank")
    browser.get_log("performance"), browser.get_log("browser")  # the start page's, not ours
    browser.get(html_path.as_uri())

    assert browser.title == "stt-eval report — handmade"
    problems = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert problems == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    sent = [
        m["params"]["request"]["url"]
        for m in (json.loads(e["message"])["message"] for e in browser.get_log("performance"))
        if m["method"] == "Network.requestWillBeSent"
    ]
    assert html_path.as_uri() in sent  # the log sees requests: the page's own is the only one
    assert [u for u in sent if u != html_path.as_uri() and not u.startswith("data:")] == []

    # the report opens with its verdict; its groups but the first (and the figures) are closed
    groups = browser.find_elements("css selector", "details.group")
    assert [g.get_attribute("open") is not None for g in groups][:2] == [True, True]
    assert not any(g.get_attribute("open") for g in groups[2:])
    headings = [h.text for h in browser.find_elements("css selector", "h2")]
    assert headings[0] == "Verdict" and headings[1:3] == ["Accuracy", "Figures"]
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")

    # the injected script is on the page as text and did not run
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    text = browser.find_element("tag name", "body").text
    assert SCRIPT in text and "HTTP 401 for key ***" in text and FAKE_KEY not in text

    # at laptop width every table fits without a sideways scroll
    wide = browser.execute_script(
        "return Array.from(document.querySelectorAll('div.scroll'))"
        ".filter(d => d.scrollWidth > d.clientWidth).length"
    )
    assert wide == 0

    images = browser.find_elements("css selector", "figure img")
    assert len(images) == len(plots(rows_frame(ROWS))) > 0
    assert all(browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)

    # Pooled WER, by hand: alpha clean 3/13, noise 1/6, TOTAL 4/19; beta clean 3/13, noise
    # failed (–), TOTAL 3/13. Blanks sort last both ways.
    table = browser.find_element("css selector", "table.sortable")
    assert _column(browser, table, "wer") == ["23.1 %", "16.7 %", "21.1 %", "23.1 %", "–", "23.1 %"]
    header = next(th for th in table.find_elements("css selector", "th") if th.text == "wer")
    header.click()
    assert _column(browser, table, "wer") == ["16.7 %", "21.1 %", "23.1 %", "23.1 %", "23.1 %", "–"]
    assert _column(browser, table, "condition")[:2] == ["noise", "TOTAL"]
    header.click()
    assert _column(browser, table, "wer") == ["23.1 %", "23.1 %", "23.1 %", "21.1 %", "16.7 %", "–"]

    artifacts = Path(os.environ.get("STT_EVAL_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1366, min(height, 12000))
    shot = artifacts / "report.png"
    assert browser.save_screenshot(str(shot))
    print(f"screenshot of report.html: {shot}")


OVERFLOW = """
const page = document.documentElement;
const out = {page: page.scrollWidth - page.clientWidth, tables: [], figures: []};
document.querySelectorAll("table").forEach(function (t) {
  const box = t.closest("div.scroll") || t.parentElement;
  const heads = t.querySelectorAll("thead th");
  const last = heads[heads.length - 1].getBoundingClientRect();
  out.tables.push({
    head: Array.from(heads).map(h => h.textContent).join(" | ").slice(0, 80),
    over: box.scrollWidth - box.clientWidth,
    lastRight: last.right - Math.min(box.getBoundingClientRect().right, window.innerWidth),
    shown: t.closest("details:not([open])") === null,
    drawn: t.closest("figure") !== null,
  });
});
document.querySelectorAll("figure").forEach(function (f) {
  const img = f.querySelector("img");
  out.figures.push({
    id: f.id,
    over: f.scrollWidth - f.clientWidth,
    img: img.getBoundingClientRect().right - f.getBoundingClientRect().right,
  });
});
return out;
"""
"""Per table and figure: how far it reaches past its container (0 or less: it fits), and how
far its last column's right edge is past what the reader sees without scrolling, and whether
it is a figure's table of the values drawn (which scrolls inside the figure)."""


@pytest.mark.slow
def test_a_sixteen_setting_chunk_run_fits_a_laptop_screen(browser, tmp_path):
    """At 1366 px, a report of 16 chunk settings overflows nowhere: no table or figure is wider
    than its container and every table's last column (a verdict, say) is in view."""
    from stt_eval.run.directory import EXPERIMENT_FILE, ROWS_FILE, append_rows, write_results

    from .test_figures import sixteen_settings

    rows = sixteen_settings()
    run_dir = tmp_path / "chunks16"
    run_dir.mkdir()
    append_rows(run_dir / ROWS_FILE, rows)
    write_results(run_dir, rows)
    (run_dir / EXPERIMENT_FILE).write_text(json.dumps({"experiment": {"name": "chunks16"}}))
    html_path, *_ = report(run_dir)
    browser.set_window_size(1366, 900)
    browser.get(html_path.as_uri())
    width = browser.execute_script("return window.innerWidth")
    assert 1300 <= width <= 1366
    # the report's groups are collapsible: open them all, as a reader going through would
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")

    found = browser.execute_script(OVERFLOW)
    assert found["page"] <= 0
    assert len(found["figures"]) >= 3
    assert [f for f in found["figures"] if f["over"] > 0 or f["img"] > 0.5] == []
    shown = [t for t in found["tables"] if t["shown"]]
    assert len(shown) >= 5
    # a figure's "values drawn" (every count behind it) scrolls inside its figure, which fits
    wide = [t for t in shown if not t["drawn"] and (t["over"] > 0 or t["lastRight"] > 0.5)]
    assert wide == [], "\n".join(map(str, wide))

    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1366, min(height, 16000))
    shot = tmp_path / "report-16-settings-1366px.png"
    assert browser.save_screenshot(str(shot))
    print(f"screenshot of report.html at 1366 px: {shot}")
