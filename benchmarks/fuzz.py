"""The property tests' long profile: many more generated mixtures and grids than `make test` draws.

    .venv/bin/python benchmarks/fuzz.py [EXAMPLES]        (default 2000 per property; ~10 minutes)

Runs `tests/test_properties.py` with `JC_HYPOTHESIS_PROFILE=long` (derandomised: the same examples
every run; set `JC_HYPOTHESIS_EXAMPLES` to change their number) and prints hypothesis's statistics:
examples per property, and any failure with its shrunk example (which then becomes a regression test).
"""

import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
examples = sys.argv[1] if len(sys.argv) > 1 else "2000"
env = {**os.environ, "JC_HYPOTHESIS_PROFILE": "long", "JC_HYPOTHESIS_EXAMPLES": examples}
start = time.perf_counter()
code = subprocess.call(
    [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "--hypothesis-show-statistics",
        os.path.join(here, "..", "tests", "test_properties.py"),
    ],
    env=env,
)
print(f"{time.perf_counter() - start:.0f} s, exit code {code}")
sys.exit(code)
