"""Line coverage per module of the fast tier against the whole suite (issue 34).

    .venv/bin/python -m pytest -q -n 2 --dist loadfile --cov=jaxcollapse --cov-report=json:fast.json
    .venv/bin/python -m pytest -q -n 2 --dist loadfile --tier all --cov=jaxcollapse --cov-report=json:all.json
    .venv/bin/python benchmarks/tier_coverage.py fast.json all.json

Coverage is measured in the test processes only (not in the subprocesses that the CLI, notebook and
multi-process tests start), the same way for both tiers. Prints a Markdown table, one row per module
of jaxcollapse, with the fast tier's coverage as a share of the whole suite's; exits 1 if any module
falls below 70 %.
"""

import json
import sys


def percent(entry):
    summary = entry["summary"]
    return 100.0 * summary["covered_lines"] / max(summary["num_statements"], 1)


def main(fast_path, all_path, floor=70.0):
    fast, full = (json.load(open(p))["files"] for p in (fast_path, all_path))
    rows, low = [], []
    for path in sorted(full):
        f, a = percent(fast.get(path, {"summary": {"covered_lines": 0, "num_statements": 1}})), percent(full[path])
        share = 100.0 * f / a if a else 100.0
        rows.append(f"| `{path}` | {f:.0f} % | {a:.0f} % | {share:.0f} % |")
        if share < floor:
            low.append(path)
    print("| module | fast tier | whole suite | fast / whole |\n|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nmodules below {floor:.0f} % of their whole-suite coverage: {', '.join(low) or 'none'}")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
