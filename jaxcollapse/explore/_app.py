"""The explorer's web app: a small ASGI app (Starlette) served by uvicorn on localhost.

Routes: `/` (the page), `/static/*` (its script and style), `/api/controls` (the sliders, menus and
their stops), `/api/picture?SETTINGS` (a diagram), `/api/curve?version=&fx=&fy=&along=` (the curves
under the cursor, from a diagram already computed), `/api/save?SETTINGS` (POST: write a run's files).
Bad settings answer 400 with `{"error": message}`; the page shows the message and keeps its picture.
"""

from __future__ import annotations

import collections
import dataclasses
import pathlib
import threading
import time

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse
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


class Explorer:
    """The app's state: recent diagrams by version, and where saves go."""

    def __init__(self, out="jaxcollapse-out", warm: bool = True):
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

    def diagram(self, settings) -> tuple[int, object, float]:
        with self.lock:
            version = self.versions.get(settings.key())
            if version is not None and version in self.diagrams:
                return version, self.diagrams[version], 0.0
        start = time.perf_counter()
        diagram = _model.compute(settings)
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

    def picture(self, query) -> dict:
        settings = _model.Settings.parse(query)
        version, diagram, seconds = self.diagram(settings)
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

    def curve(self, query) -> dict:
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

    def save(self, query) -> dict:
        query = dict(query)
        p2_row = query.pop("p2_row", "0.5")
        try:
            p2_row = float(p2_row)
        except ValueError:
            raise ValueError(f"p2_row: expected a number in [0, 1], got {p2_row!r}") from None
        settings = _model.Settings.parse(query)
        _, diagram, seconds = self.diagram(settings)
        folder = _report.save(diagram, self.out, p2_row=p2_row, computed=seconds)
        return {"folder": str(folder), "files": sorted(p.name for p in folder.iterdir())}


def _answer(method):
    async def endpoint(request):
        try:
            body = await run_in_threadpool(method, dict(request.query_params))
        except ValueError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        except LookupError as err:
            return JSONResponse({"error": str(err)}, status_code=409)
        return JSONResponse(body)

    return endpoint


def app(explorer: Explorer | None = None) -> Starlette:
    """The ASGI app over `explorer` (a new one, saving into `./jaxcollapse-out`, if None)."""
    explorer = Explorer() if explorer is None else explorer

    async def index(request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def controls_endpoint(request):
        """The controls at the settings of the page's address (a shared link), or at the defaults
        with the reason if those settings are refused."""
        try:
            settings, error = _model.Settings.parse(dict(request.query_params)), None
        except ValueError as err:
            settings, error = None, str(err)
        return JSONResponse({"controls": controls(settings), "error": error, "resolution": _model.RESOLUTION})

    routes = [
        Route("/", index),
        Route("/api/controls", controls_endpoint),
        Route("/api/picture", _answer(explorer.picture)),
        Route("/api/curve", _answer(explorer.curve)),
        Route("/api/save", _answer(explorer.save), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    result = Starlette(routes=routes)
    result.state.explorer = explorer
    return result
