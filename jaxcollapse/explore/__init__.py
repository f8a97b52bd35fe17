"""`jaxcollapse explore`: phase diagrams that follow sliders, in a browser.

A local page (127.0.0.1, for the browser of this machine) shows the collapse ratio $E_{mix}/E_{real}$ over (width m/n, synthetic
fraction p2) — or over (n/d, p2) for classical ridge — with the region where the slope of the error
is positive (a bigger model, or more data, hurts) hatched, the interpolation threshold marked, and
the curves B, V, ζ and the total along the row or column under the cursor. Sliders move tr ΣΔ, λ,
d/n and β; menus pick the model, activation and spectrum. "Save" writes what `jaxcollapse run`
writes (figure, `data.zarr`, `summary.json`, `report.md`) into `OUT/explore-NNN/`.

The server lets in only its own page: the `Host` must be its loopback address, every API call carries
the session token in the printed address, and saves must come from the page's own origin
(`jaxcollapse.explore._app.Guard`); a burst of requests waits in a short queue, never a growing one.
Serving other machines takes `host=` plus `allow_remote=True` (the token is then the only lock).

All numbers come from `jaxcollapse.theory`, in compiled programs that every slider position reuses
(`compute`); the page draws what the server sends. The server needs the `explore` extra
(`pip install 'jaxcollapse[explore]'`: Starlette and uvicorn); `compute` does not.
"""

from __future__ import annotations

from ._model import Diagram, Settings, compute

__all__ = ["Diagram", "Settings", "compute", "serve"]

INSTALL = "jaxcollapse explore needs the explore extra: pip install 'jaxcollapse[explore]'"


def serve(
    port: int = 8765,
    *,
    open_browser: bool = True,
    out="jaxcollapse-out",
    ready=None,
    host: str = "127.0.0.1",
    allow_remote: bool = False,
) -> None:
    """Serve the explorer on `http://HOST:PORT/?token=...` until interrupted (`port=0`: any free port).

    `open_browser` opens the page in the default browser; saves go to `out`; `ready`, if given, is
    called with the page's address (its session token included) once the server listens. `host` other
    than a loopback address needs `allow_remote=True`. Raises `MissingExtra` without Starlette and
    uvicorn, and `ValueError` for a port outside [0, 65535] or already in use, or a remote host
    without `allow_remote`."""
    server, sock, address = _server(port, out, host=host, allow_remote=allow_remote)
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


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _server(port, out, *, warm: bool = True, host: str = "127.0.0.1", allow_remote: bool = False):
    """(an unstarted uvicorn server, its bound socket, the page's address with its token): `serve`
    runs it; tests and the latency benchmark run it in a thread and stop it with
    `server.should_exit = True`. The token is also `server.config.app.state.token`."""
    import secrets
    import socket

    from .._validate import MissingExtra

    try:
        import uvicorn

        from ._app import Explorer, app, hosts_for
    except ImportError:
        raise MissingExtra(INSTALL) from None
    if isinstance(port, bool) or not (isinstance(port, int) and 0 <= port <= 65535):
        raise ValueError(f"port: expected an integer in [0, 65535], got {port!r}")
    if not isinstance(host, str) or not host:
        raise ValueError(f"host: expected an address such as 127.0.0.1, got {host!r}")
    if host not in LOOPBACK_HOSTS and not allow_remote:
        raise ValueError(
            f"host: {host} is not a loopback address (127.0.0.1, localhost, ::1), so other machines could "
            "reach the page; add --allow-remote to serve them (every request must then carry the session "
            "token of the printed address), or use an SSH tunnel to 127.0.0.1"
        )
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as err:
        raise ValueError(f"host: {host} cannot be resolved ({err.strerror})") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ValueError(f"port: {port} cannot be used on {host} ({err.strerror})") from None
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    name = f"[{host}]" if ":" in host else host
    address = f"http://{name}:{port}/?token={token}"
    hosts = None if allow_remote else hosts_for(port)
    asgi = app(Explorer(out, warm=warm), token=token, hosts=hosts)
    asgi.state.token = token
    config = uvicorn.Config(asgi, log_level="warning", lifespan="off")
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
