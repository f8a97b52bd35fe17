"""`jaxcollapse explore`: the numbers against `jc.theory` directly, no recompilation while sliders
move, bad input, "save", and the page itself driven in headless Chromium.

One file on purpose: the explorer's programs compile once per process, and every test here (the
browser ones included) reuses them.
"""

import collections
import json
import math
import os
import pathlib
import shutil
import threading
import time
import urllib.parse

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc
from jaxcollapse.explore import Settings, _model, _render, _report, compute

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# what the machine's closed network needs: no background connections, no updates, no sync
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def default():
    return compute(Settings())


def _reference_mixture(s: Settings):
    """The explorer's problem built directly, uncompressed: Δ set by tr ΣΔ = quality."""
    if s.spectrum == "isotropic":
        return jc.isotropic(s.d, signal=s.signal, shift=s.quality, noise_var=s.noise_var)
    return jc.power_law(s.d, s.beta, signal=s.signal, shift=s.quality, noise_var=s.noise_var)


# a few grid points (x index, p2 index): both sides of the threshold, p2 = 0 and 1 included
POINTS = [(10, 0), (40, 64), (80, 127), (90, 30), (120, 100)]


@pytest.mark.parametrize(
    "settings",
    [Settings(), Settings(quality=3.0, lam=1e-2, d_over_n=0.5, spectrum="isotropic"), Settings(beta=2.5, lam=0.0)],
    ids=["default", "isotropic", "steep-ridgeless"],
)
def test_random_projections_picture_is_the_theory(settings):
    d = compute(settings)
    mix = _reference_mixture(settings)
    n = settings.d / settings.d_over_n
    i, j = (np.array(k) for k in zip(*POINTS))
    m, p2 = d.x[i] * n, d.p2[j]
    ref = jc.theory.random_projections(mix, n=n, m=m, p2=p2, lam=settings.lam)
    np.testing.assert_allclose(d.total[i, j], ref.total, rtol=1e-8)
    np.testing.assert_allclose(d.collapse[i, j], ref.collapse, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(d.real[i], jc.theory.random_projections(mix, n=n, m=m, p2=0.0, lam=settings.lam).total)
    # ∂E/∂m by central differences of the uncompressed theory
    h = 1e-6 * m
    up = jc.theory.random_projections(mix, n=n, m=m + h, p2=p2, lam=settings.lam).total
    down = jc.theory.random_projections(mix, n=n, m=m - h, p2=p2, lam=settings.lam).total
    np.testing.assert_allclose(d.slope[i, j], (up - down) / (2 * h), rtol=1e-4, atol=1e-9)


def test_ridge_picture_is_the_theory():
    s = Settings(model="ridge", lam=1e-3, quality=0.5)
    d = compute(s)
    assert d.x[0] == pytest.approx(0.05) and d.x[-1] == pytest.approx(20.0)
    mix = _reference_mixture(s)
    i, j = (np.array(k) for k in zip(*POINTS))
    n = d.x[i] * s.d
    ref = jc.theory.ridge(mix, n=n, p2=d.p2[j], lam=s.lam)
    np.testing.assert_allclose(d.total[i, j], ref.total, rtol=1e-8)
    h = 1e-6 * n
    up = jc.theory.ridge(mix, n=n + h, p2=d.p2[j], lam=s.lam).total
    down = jc.theory.ridge(mix, n=n - h, p2=d.p2[j], lam=s.lam).total
    np.testing.assert_allclose(d.slope[i, j], (up - down) / (2 * h), rtol=1e-4, atol=1e-12)


def test_random_features_picture_is_the_theory():
    s = Settings(model="random_features", activation="tanh", lam=1e-2, quality=2.0, d_over_n=1.5)
    d = compute(s)
    n = s.d / s.d_over_n
    # on the explorer's compressed spectrum (the uncompressed one would compile a 1024-entry contour)
    mix = jc.compress(_reference_mixture(s))
    for i, j in [(5, 0), (20, 24), (40, 47)]:
        ref = jc.theory.random_features(mix, n=n, m=d.x[i] * n, p2=d.p2[j], lam=s.lam, activation="tanh")
        assert d.total[i, j] == pytest.approx(float(ref.total), rel=1e-9)
        assert d.variance[i, j] == pytest.approx(float(ref.variance), rel=1e-9)


def _hurt_span(slope_row, x):
    """The range of x < 1 where the slope is > 0 (NaN, NaN if nowhere)."""
    below = x < 1
    hit = np.flatnonzero((slope_row > 0) & below)
    return (x[hit[0]], x[hit[-1]]) if hit.size else (math.nan, math.nan)


def test_worse_synthetic_data_widens_the_hurt_region_as_the_theory_says():
    """At p2 = 0.5, a larger tr ΣΔ (worse synthetic data) widens the range of widths below m = n
    where a bigger model hurts; the explorer's boundary is where jc.theory's ∂E/∂m changes sign."""
    spans = []
    for quality in (0.3, 1.0, 3.0):
        s = Settings(quality=quality)
        d = compute(s)
        j = int(np.argmin(np.abs(d.p2 - 0.5)))
        mix = _reference_mixture(s)
        n = s.d / s.d_over_n

        def total(m, mix=mix, n=n, p2=float(d.p2[j])):
            return jc.theory.random_projections(mix, n=n, m=m, p2=p2, lam=s.lam).total

        slope = jax.vmap(jax.grad(total))(jnp.asarray(d.x * n))
        assert np.array_equal(np.asarray(slope) > 0, d.hurts[:, j])
        spans.append(_hurt_span(np.asarray(slope), d.x))
    (lo1, hi1), (lo2, hi2), (lo3, hi3) = spans
    # each worse quality's range holds the better one's, and starts at a strictly smaller width
    assert lo3 < lo2 <= hi2 <= hi3 and (math.isnan(lo1) or lo2 < lo1 <= hi1 <= hi2)


@pytest.mark.parametrize("model", ["random_projections", "ridge"])
def test_no_slider_move_recompiles(model):
    _model.warm(model)
    before = _model.compiled_programs()
    moves = [
        dict(quality=0.02),
        dict(lam=3.0),
        dict(lam=0.0),
        dict(d_over_n=0.05),
        dict(d_over_n=20.0),
        dict(beta=0.2),
        dict(beta=3.5),
        dict(beta=1.7),
        dict(spectrum="isotropic"),
    ]
    for move in moves:
        d = compute(Settings(model=model, **move))
        assert np.isfinite(d.total).any()
    assert _model.compiled_programs() == before


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"lam": "-1"}, "lam"),
        ({"lam": "abc"}, "lam"),
        ({"quality": "0"}, "quality"),
        ({"quality": "nan"}, "quality"),
        ({"d_over_n": "50"}, "d_over_n"),
        ({"beta": "0"}, "beta"),
        ({"model": "mlp"}, "model"),
        ({"activation": "sigmoid"}, "activation"),
        ({"spectrum": "flat"}, "spectrum"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_settings_name_the_field(fields, named):
    with pytest.raises(ValueError, match=named):
        Settings.parse(fields)


def test_text_fields_parse_to_the_settings():
    s = Settings.parse({"lam": " 0.01 ", "quality": "2", "model": "ridge", "d": "500"})
    assert (s.lam, s.quality, s.model, s.d) == (0.01, 2.0, "ridge", 500)


def test_curve_under_the_cursor_is_the_diagram(default):
    d = default
    c = _render.curve(d, fx=0.25, fy=0.5, along="x")
    i, j = int(0.25 * d.x.size), int(0.5 * d.p2.size)
    assert c["point"]["total"] == f"{d.total[i, j]:.4g}" and c["point"]["p2"] == f"{d.p2[j]:.3f}"
    assert c["marker"] == pytest.approx(np.log(d.x[i] / d.x[0]) / np.log(d.x[-1] / d.x[0]))
    # every curve has one vertex per grid point (none of them is NaN here)
    assert c["paths"]["total"].count("L") == d.x.size - 1
    column = _render.curve(d, fx=0.25, fy=0.5, along="p2")
    assert column["paths"]["collapse"].count("L") <= d.p2.size - 1 and column["threshold"] is None
    with pytest.raises(ValueError, match="along"):
        _render.curve(d, 0.5, 0.5, along="diagonal")


def test_picture_marks_the_threshold_and_ticks(default):
    p = _render.picture(default)
    # m = n on a log grid from 0.02 to 5 with one pixel per point
    x = default.x
    expected = (np.log(1 / x[0]) / np.log(x[-1] / x[0]) * (x.size - 1) + 0.5) / x.size
    assert p["threshold"] == pytest.approx(expected)
    labels = [t["label"] for t in p["x_ticks"]]
    assert labels[0] == "0.02" and labels[-1] == "5" and "1" in labels
    assert all(0 <= t["pos"] <= 1 for t in p["x_ticks"] + p["y_ticks"] + p["colorbar_ticks"])
    assert p["heat"].startswith("data:image/png;base64,") and not p["problems"]


def _check_saved(folder: pathlib.Path, diagram):
    import xarray as xr

    assert {"explore.png", "explore.pdf", "data.zarr", "summary.json", "report.md"} <= {
        p.name for p in folder.iterdir()
    }
    assert (folder / "explore.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["experiment"] == "explore" and summary["precision"] == "float64"
    for k, v in summary["parameters"].items():
        assert getattr(diagram.settings, k) == v
    ds = xr.open_zarr(folder / "data.zarr", consolidated=False)
    np.testing.assert_array_equal(ds["total"].values, diagram.total)
    np.testing.assert_array_equal(ds["m_over_n"].values, diagram.x)
    assert summary["largest_collapse_ratio"] == pytest.approx(float(np.nanmax(ds["ratio"].values)))


def test_save_writes_what_a_run_writes(default, tmp_path):
    first = _report.save(default, tmp_path)
    second = _report.save(default, tmp_path)
    assert (first.name, second.name) == ("explore-001", "explore-002")
    _check_saved(first, default)


def test_saved_figure_uses_the_page_style_and_labels_every_axis(default):
    # one style for the page and the saved figure (the page reads _render.CURVE_STYLE from the server)
    import matplotlib.colors
    import matplotlib.pyplot as plt

    fig = _report.figure(default)
    try:
        diagram_axes, curve_axes, colorbar_axes = fig.axes
        lines = {line.get_label(): line for line in curve_axes.get_lines() if not line.get_label().startswith("_")}
        assert set(lines) == {s["label"] for s in _render.CURVE_STYLE.values()}
        for style in _render.CURVE_STYLE.values():
            line = lines[style["label"]]
            assert matplotlib.colors.to_hex(line.get_color()) == style["color"]
            assert (line.get_linestyle() == "-") == (style["dash"] is None)
        assert diagram_axes.get_ylabel() == _render.P2_LABEL and diagram_axes.get_xlabel()
        assert colorbar_axes.get_ylabel() == _render.RATIO_LABEL
        assert curve_axes.get_ylabel() == _render.ERROR_LABEL and curve_axes.get_xlabel()
    finally:
        plt.close(fig)


def test_cli_without_the_extra_says_how_to_install(monkeypatch, capsys):
    import sys

    from jaxcollapse import cli

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn raises ImportError
    # main() sets MPLBACKEND=Agg if unset; set here, it is undone after the test (a notebook kernel
    # started later by this worker would inherit it and draw no inline figures)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    with pytest.raises(SystemExit) as exit:
        cli.main(["explore", "--no-browser"])
    assert exit.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'jaxcollapse[explore]'" in err


def _running(out, warm):
    """A live explorer server in a thread: (server, thread, address)."""
    from jaxcollapse.explore import _server

    server, sock, address = _server(0, out, warm=warm)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread, address


def _caller(address):
    """`call(path, method="GET", headers=None, body=None, **params) -> (status, text)` against a live
    server, with its session token unless `headers` say otherwise."""
    import urllib.error
    import urllib.parse
    import urllib.request

    base, token = address.split("?token=")

    def call(path, method="GET", headers=None, body=None, **params):
        url = f"{base}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        sent = {"X-Explore-Token": token, **(headers or {})}
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, method=method, headers=sent, data=data)
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    return call


def test_http_api_answers_bad_input_with_400_and_the_message(tmp_path):
    pytest.importorskip("starlette", reason="the explore extra (starlette, uvicorn) is not installed")
    server, thread, address = _running(tmp_path, warm=False)
    call = _caller(address)
    try:
        status, page = call("")
        assert status == 200 and "explore.js" in page
        for c in json.loads(call("api/controls")[1])["controls"]:  # defaults are stops; stops are in range
            if c["kind"] == "slider":
                assert c["value"] in c["stops"] and Settings.parse({c["name"]: str(c["stops"][-1])})
        status, body = call("api/picture", lam="-1")
        assert status == 400 and json.loads(body)["error"].startswith("lam:")
        good = json.loads(call("api/picture", quality="2")[1])
        status, body = call("api/curve", version=good["version"], fx=0.5, fy=0.5, along="p2")
        assert status == 200 and set(json.loads(body)["paths"]) == set(_render.CURVES)
        assert call("api/curve", version=999, fx=0.5, fy=0.5)[0] == 409
        assert call("api/curve", version=good["version"], fx=2, fy=0.5)[0] == 400
        status, body = call("api/save", method="POST", body={"quality": "2", "p2_row": "0.25"})
        saved = json.loads(body)
        assert status == 200 and pathlib.Path(saved["folder"]).parent == tmp_path and "summary.json" in saved["files"]
        status, body = call("api/save", method="POST", body=["quality", "2"])
        assert status == 400 and "JSON object" in json.loads(body)["error"]
        status, body = call("api/save", method="POST", body={"lam": "-1"})
        assert status == 400 and json.loads(body)["error"].startswith("lam:")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_server_lets_in_only_its_own_page(tmp_path):
    """What another web page can send (issue: DNS rebinding, cross-site requests) gets 403."""
    pytest.importorskip("starlette", reason="the explore extra (starlette, uvicorn) is not installed")
    server, thread, address = _running(tmp_path, warm=False)
    call = _caller(address)
    port = address.split(":")[2].split("/")[0]
    try:
        # a page from another site, its name re-resolved to 127.0.0.1, sends its own Host
        for path in ("", "api/controls"):
            status, text = call(path, headers={"Host": f"evil.example:{port}"})
            assert status == 403 and "host 'evil.example:" in text
        assert call("", headers={"Host": f"localhost:{port}"})[0] == 200  # the loopback names are the server's
        # no token, or a wrong one: every API call is refused, the page itself is served
        for headers in ({"X-Explore-Token": ""}, {"X-Explore-Token": "guess"}):
            for path, method in (("api/controls", "GET"), ("api/picture", "GET"), ("api/curve", "GET")):
                status, text = call(path, method=method, headers=headers)
                assert status == 403 and "session token" in text, (path, headers)
            assert call("api/save", method="POST", headers=headers, body={"quality": "2"})[0] == 403
        # a save from another origin, token and all, writes nothing
        status, text = call("api/save", method="POST", headers={"Origin": "http://evil.example"}, body={})
        assert status == 403 and "origin 'http://evil.example'" in text
        assert not any(tmp_path.iterdir())
        status, _ = call("api/save", method="POST", headers={"Origin": f"http://127.0.0.1:{port}"}, body={})
        assert status == 200 and len(list(tmp_path.iterdir())) == 1  # the page's own origin saves
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_remote_host_needs_allow_remote(capsys):
    pytest.importorskip("starlette", reason="the explore extra (starlette, uvicorn) is not installed")
    from jaxcollapse import cli

    # the command sets MPLBACKEND=Agg, which a notebook kernel started later by this process would inherit
    environ = dict(os.environ)
    try:
        with pytest.raises(SystemExit) as exit:
            cli.main(["explore", "--host", "0.0.0.0", "--port", "0", "--no-browser"])
    finally:
        os.environ.clear()
        os.environ.update(environ)
    err = capsys.readouterr().err.strip()
    assert exit.value.code == 2 and len(err.splitlines()) == 1
    assert "host: 0.0.0.0 is not a loopback address" in err and "--allow-remote" in err and "token" in err


def test_allow_remote_serves_any_host_with_the_token(tmp_path):
    pytest.importorskip("starlette", reason="the explore extra (starlette, uvicorn) is not installed")
    from jaxcollapse.explore import _server

    # (not under capsys: uvicorn binds its log handlers to the sys.stderr of the moment)
    with pytest.raises(ValueError, match="host: 0.0.0.0 is not a loopback address"):
        _server(0, tmp_path, warm=False, host="0.0.0.0")
    server, sock, address = _server(0, tmp_path, warm=False, host="0.0.0.0", allow_remote=True)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = address.split(":")[2].split("/")[0]
    call = _caller(address.replace("0.0.0.0", "127.0.0.1"))
    try:  # served to other machines: any host name, the token still required
        assert address.startswith("http://0.0.0.0:") and "?token=" in address
        assert call("api/controls", headers={"Host": f"lab-server.example:{port}"})[0] == 200
        assert call("api/controls", headers={"Host": f"lab-server.example:{port}", "X-Explore-Token": "x"})[0] == 403
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_gate_runs_one_at_a_time_replaces_and_turns_away():
    """The picture queue: a page's newer request replaces its waiting one (409), at most `limit`
    requests wait (then 429), and everything admitted runs, one at a time."""
    pytest.importorskip("starlette", reason="the explore extra (starlette, uvicorn) is not installed")
    from jaxcollapse.explore._app import Busy, Gate

    gate = Gate(limit=2)
    release, started, results, overlaps = threading.Event(), threading.Event(), {}, []
    running = []

    def work(name):
        running.append(name)
        overlaps.append(len(running) > 1)
        if name == "first":
            started.set()
            release.wait(10)
        running.remove(name)
        return name

    def ask(name, page):
        try:
            results[name] = gate.run(page, lambda: work(name))
        except Busy as err:
            results[name] = err.status

    def start(name, page, until):
        threads.append(threading.Thread(target=ask, args=(name, page)))
        threads[-1].start()
        while not until():
            time.sleep(0.005)

    threads = []
    start("first", "a", started.is_set)  # "first" holds the computation
    start("older", "a", lambda: gate.waiting.get("a") is not None)
    start("newer", "a", lambda: "older" in results)  # replaces "older"
    start("other", "b", lambda: len(gate.waiting) == 2)
    start("flood", "c", lambda: "flood" in results)  # the queue is full
    assert results == {"older": 409, "flood": 429}
    release.set()
    for t in threads:
        t.join(10)
    assert results == {"first": "first", "older": 409, "newer": "newer", "other": "other", "flood": 429}
    assert not any(overlaps) and gate.peak == 2 and gate.waiting == {} and not gate.running


def test_a_burst_of_picture_requests_is_answered_with_a_bounded_queue(tmp_path):
    pytest.importorskip("starlette", reason="the explore extra (starlette, uvicorn) is not installed")
    import concurrent.futures

    from jaxcollapse.explore._app import _SLIDERS

    server, thread, address = _running(tmp_path, warm=False)
    call = _caller(address)
    explorer = server.config.app.state.explorer
    stops = _SLIDERS["quality"][1]
    try:

        def one(i):  # eight pages, each moving the quality slider
            return call("api/picture", headers={"X-Explore-Page": f"page{i % 8}"}, quality=str(stops[i % len(stops)]))

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            statuses = [status for status, _ in pool.map(one, range(200))]
        assert len(statuses) == 200 and set(statuses) <= {200, 409, 429}, collections.Counter(statuses)
        assert 200 in statuses and explorer.gate.peak <= explorer.gate.limit
        assert explorer.gate.waiting == {} and not explorer.gate.running
        status, body = call("api/picture", headers={"X-Explore-Page": "page0"}, quality="0.5")
        assert status == 200 and json.loads(body)["settings"]["quality"] == 0.5  # the latest is answered
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- the page, in headless Chromium ------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    pytest.importorskip("starlette", reason="the explore extra (starlette, uvicorn) is not installed")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium)")
    out = tmp_path_factory.mktemp("explore-out")
    server, thread, address = _running(out, warm=True)
    explorer = server.config.app.state.explorer
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 860})
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(address)
        page.wait_for_function("window.explore && window.explore.pictures >= 1", timeout=90_000)
        yield page, explorer, out, problems
        browser.close()
    server.should_exit = True
    thread.join(timeout=10)
    explorer.idle()  # a compilation left running at interpreter exit would abort the process


def _move(page, name, stop):
    """Move slider `name` to stop `stop` as a person would (an input event) and wait for the picture."""
    shown = page.evaluate("window.explore.pictures")
    page.evaluate(
        "([name, stop]) => { const r = document.getElementById('slider-' + name); r.value = String(stop);"
        " r.dispatchEvent(new Event('input')); }",
        [name, stop],
    )
    page.wait_for_function(f"window.explore.pictures > {shown} && !document.querySelector('#spinner:not([hidden])')")
    return page.evaluate("window.explore.version")


def test_page_loads_without_console_errors(served):
    page, explorer, _, problems = served
    assert page.title() == "jaxcollapse explore"
    assert page.locator("#heat").get_attribute("src").startswith("data:image/png")
    assert page.locator("#title").inner_text().startswith("random projections, power law β = 1.2")
    # the curves in the server's style (the saved figure's), every axis titled
    for name, style in _render.CURVE_STYLE.items():
        stroke = page.evaluate(f"getComputedStyle(document.getElementById('path-{name}')).stroke")
        assert stroke == "rgb({}, {}, {})".format(*(int(style["color"][i : i + 2], 16) for i in (1, 3, 5)))
        dashes = page.evaluate(f"getComputedStyle(document.getElementById('path-{name}')).strokeDasharray")
        assert (dashes == "none") == (style["dash"] is None)
        assert page.locator(f".curve-legend .{name}").inner_text() == style["label"]
    for label, text in (("y-label", _render.P2_LABEL), ("colorbar-label", _render.RATIO_LABEL)):
        assert page.locator(f"#{label}").inner_text() == text
    assert page.locator("#curve-y-label").inner_text() == _render.ERROR_LABEL
    assert page.locator("#x-label").inner_text() and page.locator("#curve-x-label").inner_text()
    assert problems == []


def test_quality_slider_moves_the_picture_and_the_boundary(served):
    page, explorer, _, problems = served
    from jaxcollapse.explore._app import controls

    q = next(c["stops"] for c in controls() if c["name"] == "quality")
    low, high = q.index(0.3), q.index(3.0)
    v_low = _move(page, "quality", low)
    heat_low = page.locator("#heat").get_attribute("src")
    v_high = _move(page, "quality", high)
    assert page.locator("#heat").get_attribute("src") != heat_low
    d_low, d_high = explorer.diagrams[v_low], explorer.diagrams[v_high]
    assert (d_low.settings.quality, d_high.settings.quality) == (0.3, 3.0)
    # the served data are the theory's, and the hurt range at p2 = 0.5 is wider for worse data
    j = int(np.argmin(np.abs(d_high.p2 - 0.5)))
    for d in (d_low, d_high):
        s = d.settings
        ref = jc.theory.random_projections(
            _reference_mixture(s), n=s.d / s.d_over_n, m=d.x[[20, 90]] * s.d / s.d_over_n, p2=d.p2[j], lam=s.lam
        )
        np.testing.assert_allclose(d.total[[20, 90], j], ref.total, rtol=1e-8)
    lo_low, hi_low = _hurt_span(d_low.slope[:, j], d_low.x)
    lo_high, hi_high = _hurt_span(d_high.slope[:, j], d_high.x)
    assert lo_high < hi_high and (math.isnan(lo_low) or (lo_high <= lo_low and hi_low <= hi_high))
    assert problems == []


def test_hover_shows_the_curves_of_the_served_diagram(served):
    page, explorer, _, _ = served
    box = page.locator("#diagram").bounding_box()
    shown = page.evaluate("window.explore.curves")
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.6 * box["height"])
    page.wait_for_function(f"window.explore.curves > {shown}")
    page.wait_for_timeout(200)  # the last of the moves' curve requests
    point = page.evaluate("window.explore.point")
    d = explorer.diagrams[page.evaluate("window.explore.version")]
    i = int(np.argmin(np.abs(d.x - float(point["x"]))))
    j = int(np.argmin(np.abs(d.p2 - float(point["p2"]))))
    assert abs(i - 0.3 * d.x.size) <= 2 and abs(j - 0.4 * d.p2.size) <= 2
    assert point["total"] == f"{d.total[i, j]:.4g}"
    assert page.locator("#path-total").get_attribute("d").startswith("M")


def test_bad_text_input_shows_a_message_and_keeps_the_picture(served):
    page, explorer, _, problems = served
    assert problems == []
    version = page.evaluate("window.explore.version")
    heat = page.locator("#heat").get_attribute("src")
    for text in ("-1", "abc"):
        errors = page.evaluate("window.explore.errors")
        page.fill("#input-lam", text)
        page.press("#input-lam", "Enter")
        page.wait_for_function(f"window.explore.errors > {errors}")
        assert "lam" in page.locator("#message").inner_text()
        assert "bad" in page.locator("#input-lam").get_attribute("class")
        assert page.evaluate("window.explore.version") == version
        assert page.locator("#heat").get_attribute("src") == heat
    errors = page.evaluate("window.explore.errors")
    page.fill("#input-quality", "abc")  # a second field refused too
    page.press("#input-quality", "Enter")
    page.wait_for_function(f"window.explore.errors > {errors}")
    assert "bad" in page.locator("#input-quality").get_attribute("class")
    # the next move starts from the last good settings and clears the message; every field then
    # shows the value the picture was computed with (no refused text left on screen)
    new = _move(page, "d_over_n", 10)
    settings = explorer.diagrams[new].settings
    assert new != version and settings.lam == explorer.diagrams[version].settings.lam
    assert settings.quality == explorer.diagrams[version].settings.quality
    assert page.locator("#message").inner_text() == ""
    assert float(page.input_value("#input-lam")) == settings.lam
    assert float(page.input_value("#input-quality")) == settings.quality
    assert float(page.input_value("#input-d_over_n")) == settings.d_over_n
    assert page.locator("input.bad").count() == 0
    # the browser logs each refused request (HTTP 400), and nothing else
    assert len(problems) == 3 and all("status of 400" in p for p in problems)
    problems.clear()


def test_save_button_writes_valid_files(served):
    page, explorer, out, _ = served
    page.click("#save")
    page.wait_for_function("window.explore.saved !== undefined", timeout=60_000)
    saved = page.evaluate("window.explore.saved")
    folder = pathlib.Path(saved["folder"])
    assert folder.parent == pathlib.Path(out)
    diagram = explorer.diagrams[page.evaluate("window.explore.version")]
    _check_saved(folder, diagram)
    assert "saved to" in page.locator("#saved").inner_text()


def test_model_menu_switches_to_ridge_over_n(served):
    page, explorer, _, problems = served
    shown = page.evaluate("window.explore.pictures")
    page.select_option("#input-model", "ridge")
    page.wait_for_function(f"window.explore.pictures > {shown}", timeout=90_000)
    d = explorer.diagrams[page.evaluate("window.explore.version")]
    assert d.settings.model == "ridge"
    assert page.locator("#threshold-label").inner_text() == "n = d"
    assert "off" in page.locator("#control-d_over_n").get_attribute("class")
    assert problems == []


def test_the_address_is_a_link_to_the_view(served):
    page, explorer, _, problems = served
    from jaxcollapse.explore._app import _SLIDERS

    context = page.context.browser.new_context(viewport={"width": 1400, "height": 860})
    other = context.new_page()
    other.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    base = page.url.split("?")[0]
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["token"][0]  # the address keeps it
    other.goto(base + f"?token={token}&model=ridge&quality=3&lam=0.0007&beta=2")
    other.wait_for_function("window.explore && window.explore.pictures >= 1", timeout=90_000)
    d = explorer.diagrams[other.evaluate("window.explore.version")]
    assert (d.settings.model, d.settings.quality, d.settings.lam, d.settings.beta) == ("ridge", 3.0, 0.0007, 2.0)
    quality, lam = _SLIDERS["quality"][1], _SLIDERS["lam"][1]
    assert int(other.locator("#slider-quality").input_value()) == quality.index(3.0)
    assert lam[int(other.locator("#slider-lam").input_value())] in (5e-4, 8e-4)  # the nearest stops
    assert other.locator("#input-lam").input_value() == "0.0007"
    _move(other, "quality", quality.index(0.5))
    assert "quality=0.5" in other.url and "model=ridge" in other.url and f"token={token}" in other.url
    other.goto(base + f"?token={token}&lam=-3")  # a refused link: the defaults, and the reason
    other.wait_for_function("window.explore && window.explore.pictures >= 1", timeout=90_000)
    assert "lam" in other.locator("#message").inner_text()
    assert explorer.diagrams[other.evaluate("window.explore.version")].settings == Settings()
    shown = len(explorer.diagrams)
    other.goto(base + "?model=ridge")  # a link without the token: the page says why and asks for nothing
    other.wait_for_function("document.getElementById('message').textContent.includes('session token')")
    assert other.evaluate("window.explore.pictures") == 0 and len(explorer.diagrams) == shown
    problems[:] = [p for p in problems if "status of 403" not in p]  # the browser logs the refusal
    context.close()
    assert problems == []
