"""The explorer's web app: a small ASGI app (Starlette) served by uvicorn on localhost.

Routes: `/` (the page), `/static/*` (its script and style), `/api/controls` (the sliders, menus and
their stops), `/api/picture?SETTINGS` (a diagram), `/api/curve?version=&fx=&fy=&along=` (the curves
under the cursor, from a diagram already computed), `/api/save` (POST, the settings as a JSON object
in the body: write a run's files). Bad settings answer 400 with `{"error": message}`; the page shows
the message and keeps its picture.

The server lets in only its own page (`Guard`): a request whose `Host` is not the address the server
listens on gets 403 (a page from another site, re-resolved to 127.0.0.1 by DNS rebinding, sends its
own host name); every `/api/` call must carry the session's random token (header `X-Explore-Token`;
the page reads it from its address, `?token=...`), which no other page can know; a save whose
`Origin` is not the server's own gets 403. Pictures pass a `Gate`: one computation at a time, a
page's newer request replaces its own queued one (answered 409), and at most `Gate.limit` requests
wait: more get 429, so a flood of requests never grows a queue.
"""

from __future__ import annotations

import collections
import dataclasses
import hmac
import json
import math
import pathlib
import threading
import time

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._activations import ACTIVATIONS
from . import _model, _render, _report

STATIC = pathlib.Path(__file__).parent / "static"
_KEEP = 16  # diagrams kept for curve requests and saves


def _stops(lo, hi, mantissas=(1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)):
    """Round values from `lo` to `hi`, ten per decade (1, 1.2, 1.5, 2, … 8): a log slider's stops."""
    first, last = int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi)))
    values = [float(f"{m * 10.0**k:.3g}") for k in range(first, last + 1) for m in mantissas]
    return [v for v in values if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)]


_SLIDERS = {  # name: (label, stops, log scale)
    "quality": ("tr ΣΔ (synthetic quality)", _stops(0.01, 100), True),
    "lam": ("λ (ridge)", _stops(1e-6, 10), True),
    "d_over_n": ("d/n", _stops(0.05, 20), True),
    "beta": ("β (power law)", list(_model.BETA_STOPS), False),
}


def positions(settings) -> dict[str, int]:
    """Each slider's stop nearest to `settings` (on a log scale for the log sliders; λ = 0 is the first)."""
    out = {}
    for name, (_, stops, log) in _SLIDERS.items():
        value, stops = getattr(settings, name), np.asarray(stops)
        if log:
            distance = np.abs(np.log(stops) - np.log(value)) if value > 0 else np.arange(stops.size)
        else:
            distance = np.abs(stops - value)
        out[name] = int(np.argmin(distance))
    return out


def controls(settings=None) -> list[dict]:
    """The page's controls at `settings` (the defaults if None): sliders move over server-given stops
    (the page never computes a value), each with a text field for any other value in range."""
    s = _model.Settings() if settings is None else settings
    at = positions(s)
    menus = [
        ("model", "model", _model.MODELS),
        ("activation", "activation", ACTIVATIONS),
        ("spectrum", "spectrum", _model.SPECTRA),
    ]
    return [
        {"name": name, "label": label, "kind": "select", "value": getattr(s, name), "choices": list(choices)}
        for name, label, choices in menus
    ] + [
        {"name": name, "label": label, "kind": "slider", "value": getattr(s, name), "stops": stops, "index": at[name]}
        for name, (label, stops, _) in _SLIDERS.items()
    ]  # fmt: skip


class Busy(Exception):
    """A picture request the `Gate` turned away: `status` 409 (replaced by a newer one from the same
    page) or 429 (too many waiting)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Gate:
    """Admission for computations: one runs at a time; a page (its `X-Explore-Page` id) has at most
    one request waiting, which a newer one replaces (the page only needs the latest); at most
    `limit` requests wait in all. `peak` is the most that ever waited (for tests)."""

    def __init__(self, limit: int = 4):
        self.limit = limit
        self.cond = threading.Condition()
        self.waiting: dict[str, int] = {}  # page -> its waiting ticket
        self.replaced: set[int] = set()
        self.running = False
        self.tickets = 0
        self.peak = 0

    def run(self, page: str, work):
        with self.cond:
            self.tickets += 1
            ticket = self.tickets
            old = self.waiting.get(page)
            if old is not None:
                self.replaced.add(old)
            elif len(self.waiting) >= self.limit:
                raise Busy(429, f"the server is busy ({self.limit} requests waiting); try again")
            self.waiting[page] = ticket
            self.peak = max(self.peak, len(self.waiting))
            self.cond.notify_all()
            while ticket not in self.replaced and self.running:
                self.cond.wait()
            if ticket in self.replaced:
                self.replaced.discard(ticket)
                raise Busy(409, "replaced by a newer request from the same page")
            del self.waiting[page]
            self.running = True
        try:
            return work()
        finally:
            with self.cond:
                self.running = False
                self.cond.notify_all()


class Explorer:
    """The app's state: recent diagrams by version, and where saves go."""

    def __init__(self, out="jaxcollapse-out", warm: bool = True):
        self.gate = Gate()
        self.out = pathlib.Path(out)
        self.diagrams: collections.OrderedDict[int, object] = collections.OrderedDict()
        self.versions: dict[tuple, int] = {}
        self.lock = threading.Lock()
        self.counter = 0
        self.served = threading.Event()  # set once a picture has reached the page
        self.warmed: set[tuple] = set()
        self.warming: list[threading.Thread] = []
        if warm:  # the default picture compiles while the browser opens; its other buckets after it is shown
            self.warmed.add(("random_projections", None))
            self._start(self._warm_default)

    def _start(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.warming.append(thread)
        thread.start()

    def idle(self, timeout=None):
        """Wait for the background compilations (a benchmark measures moves after them)."""
        for thread in list(self.warming):
            thread.join(timeout)

    def _warm_default(self):
        self.diagram(_model.Settings())
        self.served.wait(timeout=60)
        _model.warm("random_projections")

    def warm_in_background(self, model, activation):
        """Compile `model`'s programs for the other spectrum buckets, once, after the picture is shown."""
        key = (model, activation if model == "random_features" else None)
        if key in self.warmed:
            return
        self.warmed.add(key)
        self._start(_model.warm, model, activation)

    def diagram(self, settings, page: str | None = None) -> tuple[int, object, float]:
        """The diagram of `settings`: kept, or computed (through the gate when `page` is given)."""
        with self.lock:
            version = self.versions.get(settings.key())
            if version is not None and version in self.diagrams:
                return version, self.diagrams[version], 0.0
        start = time.perf_counter()
        diagram = _model.compute(settings) if page is None else self.gate.run(page, lambda: _model.compute(settings))
        seconds = time.perf_counter() - start
        with self.lock:
            self.counter += 1
            version = self.counter
            self.diagrams[version] = diagram
            self.versions[settings.key()] = version
            while len(self.diagrams) > _KEEP:
                _, gone = self.diagrams.popitem(last=False)
                self.versions.pop(gone.settings.key(), None)
        return version, diagram, seconds

    def picture(self, query, page: str = "") -> dict:
        settings = _model.Settings.parse(query)
        version, diagram, seconds = self.diagram(settings, page)
        start = time.perf_counter()
        out = _render.picture(diagram)
        self.served.set()
        self.warm_in_background(settings.model, settings.activation)
        out.update(
            version=version,
            settings=dataclasses.asdict(settings),
            positions=positions(settings),
            compute_ms=round(1e3 * seconds, 1),
            render_ms=round(1e3 * (time.perf_counter() - start), 1),
        )
        return out

    def curve(self, query, page: str = "") -> dict:
        try:
            version = int(query.get("version", ""))
            fx, fy = float(query.get("fx", "")), float(query.get("fy", ""))
        except ValueError:
            raise ValueError("version, fx and fy: expected numbers") from None
        with self.lock:
            diagram = self.diagrams.get(version)
        if diagram is None:
            raise LookupError(f"version {version} is no longer kept")
        return _render.curve(diagram, fx, fy, query.get("along", "x"))

    def save(self, query, page: str = "") -> dict:
        query = dict(query)
        p2_row = query.pop("p2_row", "0.5")
        try:
            value = float(p2_row)
        except ValueError:
            value = math.nan
        if not 0.0 <= value <= 1.0:  # NaN fails too
            raise ValueError(f"p2_row: expected a number in [0, 1], got {p2_row!r}")
        p2_row = value
        settings = _model.Settings.parse(query)
        _, diagram, seconds = self.diagram(settings, page)
        folder = _report.save(diagram, self.out, p2_row=p2_row, computed=seconds)
        return {"folder": str(folder), "files": sorted(p.name for p in folder.iterdir())}


def _answer(method, *, body=False):
    """An endpoint calling `method(settings, page)`: the settings from the query string, or from the
    request's JSON body (`body=True`: an object of strings or numbers)."""

    async def endpoint(request):
        if body:
            try:
                params = json.loads(await request.body() or b"{}")
                if not isinstance(params, dict):
                    raise ValueError
            except ValueError:
                return JSONResponse({"error": "the body must be a JSON object of settings"}, status_code=400)
            params = {str(k): str(v) for k, v in params.items()}
        else:
            params = dict(request.query_params)
        page = request.headers.get("x-explore-page", "")[:64]
        try:
            answer = await run_in_threadpool(method, params, page)
        except Busy as err:
            return JSONResponse({"error": str(err)}, status_code=err.status)
        except ValueError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        except LookupError as err:
            return JSONResponse({"error": str(err)}, status_code=409)
        return JSONResponse(answer)

    return endpoint


LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class Guard:
    """ASGI middleware that lets in only the server's own page: the `Host` header must name one of
    `hosts` (None: any, for `--allow-remote`), `/api/` calls must carry `token` in `X-Explore-Token`,
    and a POST whose `Origin` is present must be one of the allowed hosts over http."""

    def __init__(self, app, *, token: str, hosts: frozenset[str] | None):
        self.app, self.token, self.hosts = app, token, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        why = None
        if self.hosts is not None and host not in self.hosts:
            why = f"host {host!r} is not this server's address"
        elif scope["path"].startswith("/api/") and not hmac.compare_digest(
            headers.get("x-explore-token", "").encode(), self.token.encode()
        ):
            why = "missing or wrong session token (open the address the command printed)"
        elif scope["method"] == "POST" and "origin" in headers and headers["origin"] != f"http://{host}":
            why = f"origin {headers['origin']!r} is not this page"
        if why is not None:
            return await PlainTextResponse(f"forbidden: {why}", status_code=403)(scope, receive, send)
        return await self.app(scope, receive, send)


def hosts_for(port: int) -> frozenset[str]:
    """The `Host` values of a loopback server on `port`."""
    return frozenset(f"{name}:{port}" for name in LOOPBACK)


def app(explorer: Explorer | None = None, *, token: str, hosts: frozenset[str] | None) -> Starlette:
    """The ASGI app over `explorer` (a new one, saving into `./jaxcollapse-out`, if None), letting in
    requests for `hosts` (None: any host) that carry `token` (see `Guard`)."""
    explorer = Explorer() if explorer is None else explorer

    async def index(request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def controls_endpoint(request):
        """The controls at the settings of the page's address (a shared link), or at the defaults
        with the reason if those settings are refused."""
        query = {k: v for k, v in request.query_params.items() if k != "token"}
        try:
            settings, error = _model.Settings.parse(query), None
        except ValueError as err:
            settings, error = None, str(err)
        return JSONResponse(
            {
                "controls": controls(settings),
                "error": error,
                "resolution": _model.RESOLUTION,
                "curve_style": _render.CURVE_STYLE,
                "labels": {"p2": _render.P2_LABEL, "ratio": _render.RATIO_LABEL, "error": _render.ERROR_LABEL},
            }
        )

    routes = [
        Route("/", index),
        Route("/api/controls", controls_endpoint),
        Route("/api/picture", _answer(explorer.picture)),
        Route("/api/curve", _answer(explorer.curve)),
        Route("/api/save", _answer(explorer.save, body=True), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    result = Starlette(routes=routes)
    result.state.explorer = explorer
    result.add_middleware(Guard, token=token, hosts=hosts)
    return result
