"""The ``html`` report in a real browser: Debian's Chromium, headless, driven by selenium
through Debian's chromedriver, with no network and a fresh profile.

A report of a real run (the CLI in a subprocess, on a real repository) loads with no
console error; a failing step's name and message are visible text (a ``<script>`` a
component printed shows as text and runs nothing); the graph has one node per step; the
screenshot is not blank. A report of a 1,000-step run renders in under a second.

``.ci/run`` installs the browser and sets ``OMNIBASE_REQUIRE_BROWSER=1``: there a missing
browser fails the test. Elsewhere it skips, naming the missing package.
``OMNIBASE_DOCS_SCREENSHOT=1`` also writes the screenshot that ``docs/formats.md`` shows.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omnibase.cli.formatters import FORMATTERS, RenderOptions
from omnibase.core.values import Failed

pytestmark = pytest.mark.e2e

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1200,2000",
)  # fmt: skip
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "html-report.png"


def _missing() -> str:
    """What is not installed, as the package to install, or ''."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package selenium (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Debian's chromium package ({CHROMIUM}; apt-get install chromium chromium-driver)"
    if not os.access(CHROMEDRIVER, os.X_OK):
        return f"Debian's chromium-driver package ({CHROMEDRIVER}; apt-get install chromium-driver)"
    return ""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if os.environ.get("OMNIBASE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser test must run here, but it needs {missing}")
        pytest.skip(f"needs {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="omnibase-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)  # the given driver: selenium fetches nothing
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver: Any, path: Path) -> float:
    """Load ``path``, lay it out, and return the seconds that took; the console is emptied first."""
    driver.get_log("browser")
    start = time.perf_counter()
    driver.get(path.as_uri())
    driver.execute_script("return document.body.getBoundingClientRect().height")  # forces layout
    return time.perf_counter() - start


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


REGISTRY = """\
version: 1
stages:
  ci:
    tests_wait: false  # the failing checks must not keep the tests from running: the page shows both
components:
  - name: unit-ok
    type: test
    command: ["true"]
    always_run: true
    pass_filenames: false
  - name: unit-leaky
    type: test
    command: ["sh", "-c", "echo \\"token=$OMNI_TEST_TOKEN <script>document.title='pwned'</script> & done\\"; exit 1"]
    always_run: true
    pass_filenames: false
    pass_env: [OMNI_TEST_TOKEN]
"""


def test_report_of_a_real_run_opens_in_chromium(browser, repo, cli, tmp_path):
    from selenium.webdriver.common.by import By

    repo.seed({"omnibase.yaml": REGISTRY, "ok.py": "x = 1\n"})
    repo.write("notes.txt", "trailing   \n")
    repo.write("bad.json", "{not json\n")
    repo.stage("notes.txt", "bad.json")
    out = tmp_path / "report.html"
    r = cli("orch", "--stage", "ci", "--format", "json", "--report", f"html={out}", env={"OMNI_TEST_TOKEN": "s3cr3t-value-42"})
    assert r.code == 1, r
    steps = json.loads(r.out)["steps"]
    failing = [s["name"] for s in steps if s["status"] == "FAIL"]
    assert {"check-json", "trailing-whitespace", "unit-leaky"} <= set(failing)
    page = out.read_text(encoding="utf-8")
    assert "s3cr3t-value-42" not in page

    seconds = open_page(browser, out)
    assert console_errors(browser) == []
    assert browser.title.startswith("omnibase ci") and "pwned" not in browser.title  # the printed script did not run
    failures = browser.find_element(By.ID, "failures")
    assert failures.is_displayed()
    for name in failing:
        assert name in failures.text
    assert "Failed to json decode" in failures.text
    assert "<script>document.title='pwned'</script> & done" in failures.text  # shown as text
    assert "token=[redacted]" in failures.text
    nodes = browser.find_elements(By.CSS_SELECTOR, "#graph-svg g.n")
    assert len(nodes) == len(steps)
    fill = {n.text.split()[0]: n.find_element(By.TAG_NAME, "rect").value_of_css_property("fill") for n in nodes}
    assert fill["check-json"] != fill["unit-ok"]  # coloured by status
    tests = browser.find_element(By.ID, "tests").text
    assert "unit-ok" in tests and "unit-leaky" in tests
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline-svg rect")

    png = browser.get_screenshot_as_png()
    colours, inked = png_stats(png)
    assert colours > 20 and inked > 0.05, (colours, inked)  # not blank: text, badges, boxes
    if os.environ.get("OMNIBASE_DOCS_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        DOCS_SCREENSHOT.write_bytes(png)
    assert seconds < 5


def test_a_thousand_step_report_renders_in_under_a_second(browser, tmp_path):
    from returns.result import Failure, Result, Success
    from selenium.webdriver.common.by import By

    from omnibase import Component, Meta, all_of, new_ctx, run

    def check(i: int) -> Component[None, None]:
        def fn(ctx: Any, x: None) -> Result[None, Failed]:
            return Failure(Failed(message=f"problem {i}: <b>not bold</b>")) if i % 4 == 2 else Success(x)

        return Component(fn, Meta(name=f"component-{i:04d}"))

    count = 1000
    report = run(all_of(*[check(i) for i in range(count)]), None, new_ctx("ci"))  # a real run of 1,000 steps
    assert len(report.steps) == count and report.summary.failed == count // 4
    out = tmp_path / "big.html"
    out.write_text(FORMATTERS["html"](report, RenderOptions()), encoding="utf-8")
    open_page(browser, out)  # once to warm the browser's caches for a fair measure
    seconds = min(open_page(browser, out) for _ in range(2))
    assert console_errors(browser) == []
    assert len(browser.find_elements(By.CSS_SELECTOR, "#graph-svg g.n")) == count
    assert "problem 2: <b>not bold</b>" in browser.find_element(By.ID, "step-2").text
    assert seconds < 1.0, f"{seconds:.3f}s for {out.stat().st_size} bytes"


# --- a small PNG reader (8-bit RGB or RGBA, not interlaced: what Chromium writes) -----------------


def png_stats(data: bytes) -> tuple[int, float]:
    """How many distinct colours a PNG has, and the share of its pixels that are not white."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    previous = bytearray(stride)
    colours: set[bytes] = set()
    inked = 0
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        for x in range(0, stride, bpp * 4):  # every fourth pixel is plenty to judge
            pixel = bytes(line[x : x + 3])
            colours.add(pixel)
            inked += pixel != b"\xff\xff\xff"
        previous = line
    return len(colours), inked / (height * width / 4)
