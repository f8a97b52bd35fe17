"""One process of a multi-process sweep (tests/test_distributed.py starts K of them on this machine).

    python _distributed_worker.py PROCESS_ID PROCESSES PORT OUT_DIR [slow]

Joins the others through `jax.distributed` (CPU collectives by gloo), runs the sweeps of
`sweep_kernels.distributed_sweeps` (a theory grid, a simulator grid, and the theory grid into a
shared checkpoint, twice) and saves each Dataset's values and attrs to OUT_DIR/pPROCESS_ID-NAME.npz.
With `slow`, runs one slow checkpointed sweep instead (each chunk waits), for the kill test.
"""

import json
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_cpu_collectives_implementation", "gloo")

pid, count, port, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
jax.distributed.initialize(
    coordinator_address=f"localhost:{port}", num_processes=count, process_id=pid, heartbeat_timeout_seconds=5
)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import sweep_kernels  # noqa: E402

import jaxcollapse as jc  # noqa: E402

assert jax.process_count() == count and len(jax.devices()) == count


def save(name, ds):
    arrays = {f"var_{k}": ds[k].values for k in ds.data_vars}
    np.savez(os.path.join(out, f"p{pid}-{name}.npz"), attrs=json.dumps(ds.attrs, default=str), **arrays)


if len(sys.argv) > 5 and sys.argv[5] == "slow":
    ds = jc.sweep(
        sweep_kernels.slow_ridge,
        sweep_kernels.AXES,
        chunk_size=12,
        checkpoint=os.path.join(out, "slow.zarr"),
        progress=False,
    )
    save("slow", ds)
else:
    for name, ds in sweep_kernels.distributed_sweeps(os.path.join(out, "shared.zarr")):
        save(name, ds)
print("ok", flush=True)
