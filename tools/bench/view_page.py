#!/usr/bin/env python3
"""The page side of tools/bench/view (not a test): Playwright with Debian's chromium.

    view_page.py first-screen URL     time to the first screen of each tab, and the page's JS heap
    view_page.py follow URL           follows the live packet list until stdin closes; prints how
                                      many packets the page received
Prints one JSON object.
"""
import json
import sys
import time

from playwright.sync_api import sync_playwright


def heap(page, cdp):
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return round(metrics.get("JSHeapUsedSize", 0) / 1048576, 1)


def first_screen(browser, url):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    out = {}
    start = time.monotonic()
    page.goto(url + "#view=sessions")
    page.wait_for_selector("tr.session-row")
    out["sessions_first_screen_s"] = round(time.monotonic() - start, 3)
    out["sessions_listed"] = page.eval_on_selector("#session-table", "t => Number(t.dataset.total)")
    start = time.monotonic()
    page.click("#tabs a[data-view=packets]")
    page.wait_for_selector("#packet-list .packet-row[data-seq]")
    out["packets_first_screen_s"] = round(time.monotonic() - start, 3)
    # Jump to the middle of a million rows: the page fetches that page only.
    start = time.monotonic()
    page.evaluate("() => { const s = document.querySelector('#packet-list'); s.scrollTop = s.scrollHeight / 2; }")
    page.wait_for_function("() => [...document.querySelectorAll('#packet-list .packet-row[data-seq]')].some(r => Number(r.dataset.seq) > 400000)")
    out["packets_jump_to_middle_s"] = round(time.monotonic() - start, 3)
    start = time.monotonic()
    page.evaluate("v => { location.hash = v }", "view=packets&event=message:*&dir=client")
    page.wait_for_function("() => /^\\d+ packets/.test(document.querySelector('#view-packets .toolbar span').textContent) && document.querySelector('#packet-list .packet-row[data-seq]')")
    out["filter_event_s"] = round(time.monotonic() - start, 3)
    start = time.monotonic()
    page.evaluate("v => { location.hash = v }", "view=diagram&event=&dir=")
    page.wait_for_function("() => document.querySelector('svg#diagram') && Number(document.querySelector('svg#diagram').dataset.drawn) > 0")
    out["diagram_s"] = round(time.monotonic() - start, 3)
    out["page_js_heap_mib"] = heap(page, cdp)
    page.close()
    return out


def follow(browser, url):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(url + "#view=packets")
    page.wait_for_selector("body[data-ready='1']")
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.read()
    received = page.evaluate("() => window.siotape.arrivals.length")
    # Where the renderer's main thread spent its time (seconds, cumulative over the runs).
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    keep = ["TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "LayoutCount", "RecalcStyleCount", "Nodes"]
    page.close()
    return {"received": received, "metrics": {k: round(metrics[k], 2) for k in keep if k in metrics}}


def main():
    mode, url = sys.argv[1], sys.argv[2]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-dev-shm-usage"])
        result = first_screen(browser, url) if mode == "first-screen" else follow(browser, url)
        browser.close()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
