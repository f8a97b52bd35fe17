#!/usr/bin/env bash
# One test tier as a newcomer or CI meets it: a fresh clone of HEAD, its own .venv (installed first,
# not timed), no persistent compilation cache (tests/conftest.py). Prints the wall time of the tier,
# the number of XLA compilations in the test processes (tests/conftest.py counts them into
# $JC_COUNT_COMPILES; the subprocesses that the CLI and notebook tests start are not counted) and
# the 15 slowest tests.
#
#   benchmarks/test_tiers.sh fast   # make test
#   benchmarks/test_tiers.sh all    # make test-all (CI)
set -euo pipefail
tier=${1:-fast}
case $tier in fast) target=test ;; all) target=test-all ;; *) echo "usage: $0 fast|all" >&2; exit 2 ;; esac
src=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d)
git clone -q "$src" "$work/clone"
cd "$work/clone"
make install >/dev/null
export JC_COUNT_COMPILES="$work/compiles"
: > "$JC_COUNT_COMPILES"
start=$(date +%s)
make "$target" PYTEST_ARGS="--durations=15" | tee "$work/log" | grep -E "passed|failed|error" || true
echo "tier $tier: $(( $(date +%s) - start )) s wall at $(git rev-parse --short HEAD), $(wc -l < "$JC_COUNT_COMPILES") compilations"
sed -n '/slowest 15 durations/,/^$/p' "$work/log"
rm -rf "$work"
