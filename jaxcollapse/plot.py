"""Matplotlib figures. Functions take the NumPy data of an experiment and return a Figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def scaling_law(data: dict):
    """Test error against n (log–log): theory lines, simulation points, collapse floors dashed."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6), constrained_layout=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, p2 in enumerate(data["p2"]):
        color = colors[i % len(colors)]
        label = "real only" if p2 == 0 else f"$p_2$ = {p2:g}"
        ax.loglog(data["n"], data["total"][i], color=color, lw=1.8, label=label)
        ax.errorbar(
            data["n_sim"], data["sim_mean"][i], yerr=data["sim_sem"][i], fmt="o", ms=4, color=color, capsize=2
        )
        if p2 > 0:
            ax.axhline(data["floor"][i], color=color, ls="--", lw=1)
    cfg = data["config"]
    ax.set_xlabel("training samples $n$ (real + synthetic)")
    ax.set_ylabel(r"test error on real data $\|\hat w - w_1^*\|^2_{\Sigma}$")
    ax.set_title(
        f"Strong model collapse: power law $j^{{-{cfg['beta']:g}}}$, d = {cfg['d']}, "
        f"tr(ΣΔ) = {data['quality']:g}, ridge tuned",
        fontsize=9,
    )
    ax.plot([], [], "k-", label="theory")
    ax.errorbar([], [], yerr=[], fmt="ko", ms=4, label=f"simulation ({cfg['trials']} trials, ± s.e.)")
    ax.plot([], [], "k--", lw=1, label=r"floor $p_2^2\,\mathrm{tr}(\Sigma\Delta)$")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(True, which="major", alpha=0.3)
    return fig
