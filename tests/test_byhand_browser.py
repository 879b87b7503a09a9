"""The printable by-hand sheets in a real browser: Debian's Chromium driven by Playwright.

For each network, the sheet of a student is saved as a standalone page, opened
from a file:// address, and checked to show the drawing, the givens and one
empty, visible box per step in the notes' order, to ask for nothing beyond the
file, and to print (Chromium's own PDF of the page in print media).  A
screenshot goes to screenshots/ for a person to look at.

Skipped, with the reason, where /usr/bin/chromium is missing (never `playwright install`).
"""
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from browser_util import Browser, chromium_missing  # noqa: E402

from gradelib import byhand  # noqa: E402

NETWORKS = ("single_neuron", "relu_chain", "softmax_223")
STUDENT = "st_browser_7"


@pytest.mark.skipif(chromium_missing() is not None, reason=str(chromium_missing()))
@pytest.mark.parametrize("network", NETWORKS)
def test_the_sheet_shows_a_box_per_step_and_prints(tmp_path, network):
    path = byhand.sheet(network, STUDENT).save(tmp_path / f"{network}.html")
    graded = byhand.graded_steps(network)   # the sheet asks for the graded steps only
    wanted = [s.key for s in byhand.steps(network, byhand.problem(network, STUDENT).target) if s.key in graded]
    requests = []
    with Browser() as browser:
        page = browser.new_page(width=900, height=1200)
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        boxes = page.locator("td.box")
        keys = [boxes.nth(i).get_attribute("data-key") for i in range(boxes.count())]
        sizes = [boxes.nth(i).bounding_box() for i in range(boxes.count())]
        empty = all(not boxes.nth(i).inner_text().strip() for i in range(boxes.count()))
        drawing = page.locator(".drawing svg").bounding_box()
        text = page.inner_text("body")
        out = HERE.parent / "screenshots"
        out.mkdir(exist_ok=True)
        page.screenshot(path=str(out / f"byhand_sheet_{network}.png"), full_page=True)
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4")
    assert keys == wanted
    assert empty and all(s is not None and s["width"] > 40 and s["height"] > 10 for s in sizes)
    assert drawing is not None and drawing["width"] > 200 and drawing["height"] > 80
    assert STUDENT in text
    assert all(u.startswith(("file://", "data:", "about:")) for u in requests), requests
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
