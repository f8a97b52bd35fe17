"""Progress bars on a terminal: one mechanism for the sweep's grid points and the simulators' trials.

A bar writes to standard error only when it is a terminal (never into a log, a notebook's captured
stream or a test). The sweep updates its bar from Python between chunks. A simulator's trials run
inside one compiled program, so each trial reports itself through `jax.debug.callback` (`tick`);
the callback is put into the program only when standard error is a terminal at the time the
program is traced, and a tick while a sweep's bar is showing is dropped (the sweep counts its
points itself).
"""

from __future__ import annotations

import sys
import time

_SWEEPING = [0]  # sweeps running (their bars own the terminal)
_TRIALS: list = []  # the trials bar now showing (at most one)


def interactive(stream=None) -> bool:
    """Whether `stream` (default standard error) is a terminal."""
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """`[####....] done/total unit  rate unit/s  ETA s` on one line, rewritten on each update."""

    def __init__(self, total, *, enabled, unit="points", stream=None):
        self.stream = stream or sys.stderr
        self.enabled = bool(enabled) and interactive(self.stream)
        self.total = total
        self.unit = unit
        self.done = 0
        self.start = time.perf_counter()

    def update(self, count):
        self.done += count
        if not self.enabled:
            return
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        width = 30
        filled = int(width * min(self.done, self.total) / max(self.total, 1))
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {self.unit}  "
            f"{rate:,.0f} {self.unit}/s  ETA {eta:,.1f} s"
        )
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class sweeping:
    """Context of a sweep: trial ticks are dropped while it runs."""

    def __enter__(self):
        _SWEEPING[0] += 1

    def __exit__(self, *exc):
        _SWEEPING[0] -= 1


def tick(total, _after=None) -> None:
    """One trial of `total` done (the host side of `trial_callback`): the bar starts with the first
    trial of a call and ends with its last."""
    if _SWEEPING[0]:
        return
    total = int(total)
    if not _TRIALS or _TRIALS[0].total != total or _TRIALS[0].done >= total:
        _TRIALS[:] = [Progress(total, enabled=True, unit="trials")]
    bar = _TRIALS[0]
    bar.update(1)
    if bar.done >= total:
        bar.close()


def trial_callback(total: int, out) -> None:
    """Inside a traced trial whose result is `out` (a pytree): report it to `tick` once `out` is
    computed, when standard error is a terminal (decided now, at tracing; nothing is added to the
    program otherwise)."""
    if interactive():
        import jax

        leaf = jax.tree_util.tree_leaves(out)[0]
        jax.debug.callback(tick, total, leaf.ravel()[0])
