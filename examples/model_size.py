"""Model size vs collapse: bias, variance and collapse term against width m/n (Strong Model Collapse, §3)."""

import sys

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jaxcollapse as jc  # noqa: E402

d, n = 1000, 400  # d > n: the interpolation threshold m = n is a peak
mix = jc.isotropic(d, signal=1.0, shift=0.5, noise_var=0.25)  # tr(ΣΓ) = 1, tr(ΣΔ) = 0.5, σ² = 0.25
psi = jnp.geomspace(0.05, 20, 400)  # width / sample size
r = jc.theory.random_projections(mix, n=n, m=psi * n, p2=0.2, lam=jnp.array([0.0, 1e-2])[:, None])

fig, ax = plt.subplots(figsize=(6, 4))
for name in ("bias", "variance", "collapse"):
    (line,) = ax.loglog(psi, getattr(r, name)[0], label=f"{name}, ridgeless")
    ax.loglog(psi, getattr(r, name)[1], "--", color=line.get_color(), label=f"{name}, λ = 0.01")
ax.axvline(1.0, color="k", lw=0.8, label="threshold m = n")
ax.set(xlabel="width / sample size  m/n", ylabel="test error on real data", title="p2 = 0.2, d/n = 2.5")
ax.legend(fontsize=7)
fig.savefig(sys.argv[1] if len(sys.argv) > 1 else "model-size.png", dpi=120, bbox_inches="tight")
