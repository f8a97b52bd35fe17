"""Slider-to-picture latency of `jaxcollapse explore`, in headless Chromium, against recomputing and
redrawing the same diagram the usual way (the phase-diagram experiment's sweep and figure), in one run.

    .venv/bin/python benchmarks/explore_latency.py [MOVES]      (default 50; about 2 minutes)

The page measures each latency itself: from the slider's input event to the first animation frame
after the new picture is decoded and placed (a move made while a picture is computing waits for it,
and its latency counts from the move). Scenarios, on a 128 × 128 diagram of random projections
(power law, d = 1000) after the first load and its background compilations:

- "one move at a time": MOVES moves of a random slider (tr ΣΔ, λ, d/n, β) to a random stop, each
  after the previous picture is shown;
- "dragging": MOVES moves fired every 25 ms, as a dragged slider sends them (latest wins);
- classical ridge (128 × 128) and random features (relu, 48 × 48), 20 moves each, one at a time.

The baseline is what each change cost before the explorer: `jc.sweep` of the phase-diagram kernel
on the same 128 × 128 grid plus the experiment's matplotlib figure written to a PNG (the experiment
builds a new kernel per setting, so each change traces and compiles again); median of 3 changes.
Both run with the command line's XLA flags and persistent compilation cache off (cold compiles).
"""

import os
import sys
import tempfile
import threading
import time

from jaxcollapse._cache import cli_xla_flags

cli_xla_flags()
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

MOVES = int(sys.argv[1]) if len(sys.argv) > 1 else 50
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
FLAGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]


def baseline(qualities):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from jaxcollapse.experiments import phase_diagram as pd

    times = []
    for q in qualities:
        start = time.perf_counter()
        config = pd.Config(quality=q, resolution=128, fixed_widths=(0.25,), qualities=(0.01, 10.0))
        ds = pd.compute(config)
        for fig in pd.figures(ds).values():
            fig.savefig(os.path.join(tempfile.gettempdir(), "explore-baseline.png"), dpi=100)
            plt.close(fig)
        times.append(time.perf_counter() - start)
    return times


def move(page, name, stop):
    page.evaluate(
        "([name, stop]) => { const r = document.getElementById('slider-' + name); r.value = String(stop);"
        " r.dispatchEvent(new Event('input')); }",
        [name, stop],
    )


def settle(page, count):
    """Wait for the `count`-th picture and for the page to have nothing left to ask."""
    page.wait_for_function(f"window.explore.latencies.length >= {count} && !window.explore.busy", timeout=120_000)
    return page.evaluate("window.explore.latencies.length")


def server_share(page, moves):
    """Median milliseconds the server spent computing and rendering in the last `moves` pictures."""
    parts = np.asarray(page.evaluate("window.explore.server")[-moves:], float)
    return f"(server: compute {np.median(parts[:, 0]):.0f} ms + render {np.median(parts[:, 1]):.0f} ms, medians)"


def one_at_a_time(page, sliders, moves, rng):
    shown = page.evaluate("window.explore.latencies.length")
    for _ in range(moves):
        name, count = sliders[rng.integers(len(sliders))]
        move(page, name, int(rng.integers(count)))
        shown = settle(page, shown + 1)
    return page.evaluate("window.explore.latencies")[-moves:]


def report(name, ms):
    ms = np.asarray(ms)
    print(
        f"{name:<44} n={ms.size:3d}  median {np.median(ms):7.1f} ms  p90 {np.percentile(ms, 90):7.1f} ms  worst {ms.max():7.1f} ms"
    )


def main():
    from playwright.sync_api import sync_playwright

    from jaxcollapse.explore import _server
    from jaxcollapse.explore._app import controls

    rng = np.random.default_rng(0)
    out = tempfile.mkdtemp()
    start = time.perf_counter()
    server, sock, address = _server(0, out)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    explorer = server.config.app.state.explorer
    sliders = [(c["name"], len(c["stops"])) for c in controls() if c["kind"] == "slider"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 860})
        page.goto(address)
        page.wait_for_function("window.explore && window.explore.pictures >= 1", timeout=120_000)
        print(f"first picture (server start to page shown, cold compile): {time.perf_counter() - start:.1f} s")
        explorer.idle()
        print(f"background compilation of the other spectrum bucket done at {time.perf_counter() - start:.1f} s")
        report("random projections, one move at a time", one_at_a_time(page, sliders, MOVES, rng))
        print(f"{'':<44} {server_share(page, MOVES)}")
        shown = page.evaluate("window.explore.latencies.length")
        for _ in range(MOVES):
            name, count = sliders[rng.integers(len(sliders))]
            move(page, name, int(rng.integers(count)))
            page.wait_for_timeout(25)
        settle(page, shown + 1)
        print(f"{'':<44} ({MOVES} moves drew {page.evaluate('window.explore.latencies.length') - shown} pictures)")
        report("random projections, dragging (a move / 25 ms)", page.evaluate("window.explore.latencies")[shown:])
        for model, label in (("ridge", "classical ridge"), ("random_features", "random features (relu, 48 × 48)")):
            shown = page.evaluate("window.explore.latencies.length")
            t = time.perf_counter()
            page.select_option("#input-model", model)
            settle(page, shown + 1)
            first = time.perf_counter() - t
            explorer.idle()
            report(f"{label}, one move at a time", one_at_a_time(page, sliders[:3], 20, rng))
            print(f"{'':<44} {server_share(page, 20)}")
            print(f"{'':<44} (its first picture, compiling: {first:.1f} s)")
        browser.close()
    server.should_exit = True
    times = baseline([0.5, 1.0, 2.0])
    print(
        f"{'baseline: jc.sweep + figure per change':<44} n=  3  median {1e3 * np.median(times):7.0f} ms  (each change compiles)"
    )


if __name__ == "__main__":
    main()
