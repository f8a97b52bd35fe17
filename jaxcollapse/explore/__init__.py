"""`jaxcollapse explore`: phase diagrams that follow sliders, in a browser.

A local page (127.0.0.1 only) shows the collapse ratio $E_{mix}/E_{real}$ over (width m/n, synthetic
fraction p2) — or over (n/d, p2) for classical ridge — with the region where the slope of the error
is positive (a bigger model, or more data, hurts) hatched, the interpolation threshold marked, and
the curves B, V, ζ and the total along the row or column under the cursor. Sliders move tr ΣΔ, λ,
d/n and β; menus pick the model, activation and spectrum. "Save" writes what `jaxcollapse run`
writes (figure, `data.zarr`, `summary.json`, `report.md`) into `OUT/explore-NNN/`.

All numbers come from `jaxcollapse.theory`, in compiled programs that every slider position reuses
(`compute`); the page draws what the server sends. The server needs the `explore` extra
(`pip install 'jaxcollapse[explore]'`: Starlette and uvicorn); `compute` does not.
"""

from __future__ import annotations

from ._model import Diagram, Settings, compute

__all__ = ["Diagram", "Settings", "compute", "serve"]

INSTALL = "jaxcollapse explore needs the explore extra: pip install 'jaxcollapse[explore]'"


def serve(port: int = 8765, *, open_browser: bool = True, out="jaxcollapse-out", ready=None) -> None:
    """Serve the explorer on `http://127.0.0.1:PORT/` until interrupted (`port=0`: any free port).

    `open_browser` opens the page in the default browser; saves go to `out`; `ready`, if given, is
    called with the page's address once the server listens. Raises `MissingExtra` without Starlette
    and uvicorn, and `ValueError` for a port outside [0, 65535] or already in use."""
    server, sock, address = _server(port, out)
    if ready is not None or open_browser:
        _announce(server, address, ready, open_browser)
    server.run(sockets=[sock])
    # A background compilation still running when the interpreter shuts down aborts the process
    # inside XLA ("terminate called ..."); after a short grace, leave without running teardown.
    explorer = server.config.app.state.explorer
    explorer.idle(timeout=0.5)
    if any(t.is_alive() for t in explorer.warming):
        import os
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _server(port, out, *, warm: bool = True):
    """(an unstarted uvicorn server, its bound socket, the page's address): `serve` runs it; tests and
    the latency benchmark run it in a thread and stop it with `server.should_exit = True`."""
    import socket

    from .._validate import MissingExtra

    try:
        import uvicorn

        from ._app import Explorer, app
    except ImportError:
        raise MissingExtra(INSTALL) from None
    if isinstance(port, bool) or not (isinstance(port, int) and 0 <= port <= 65535):
        raise ValueError(f"port: expected an integer in [0, 65535], got {port!r}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as err:
        sock.close()
        raise ValueError(f"port: {port} cannot be used on 127.0.0.1 ({err.strerror})") from None
    address = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    config = uvicorn.Config(app(Explorer(out, warm=warm)), log_level="warning", lifespan="off")
    return uvicorn.Server(config), sock, address


def _announce(server, address, ready, open_browser):
    """Once `server` listens: `ready(address)` and the browser."""
    import threading
    import time
    import webbrowser

    def wait():
        while not server.started:
            time.sleep(0.02)
        if ready is not None:
            ready(address)
        if open_browser:
            webbrowser.open(address)

    threading.Thread(target=wait, daemon=True).start()
