"""The docs' picture of `jaxcollapse explore` (docs/explore.png), made from the page itself.

    .venv/bin/python scripts/explore_screenshot.py [OUT]      (default docs/explore.png)

Starts the server on a free port, opens its page in headless Chromium (Debian's `chromium`, the
test extra's Playwright) at 1560 × 720, waits for the default diagram and the curves under the
cursor at the middle of the diagram, and saves a screenshot of the page.
"""

import sys
import tempfile
import threading
import time

from jaxcollapse._cache import cli_xla_flags

cli_xla_flags()
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
FLAGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main():
    from playwright.sync_api import sync_playwright

    from jaxcollapse.explore import _server

    out = sys.argv[1] if len(sys.argv) > 1 else "docs/explore.png"
    server, sock, address = _server(0, tempfile.mkdtemp())
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1560, "height": 720})
        page.goto(address)
        page.wait_for_function(
            "window.explore && window.explore.pictures >= 1 && window.explore.curves >= 1", timeout=180_000
        )
        box = page.locator("#diagram").bounding_box()
        page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.5 * box["height"])
        page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.5 * box["height"])  # pin the curves there
        page.wait_for_function("!window.explore.busy", timeout=60_000)
        page.wait_for_timeout(500)
        page.screenshot(path=out)
        browser.close()
    server.should_exit = True
    thread.join(timeout=30)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
