#!/usr/bin/env bash
# fuzz.sh: a short, bounded run of every fuzz target in the tree, so CI
# exercises each parser of outside input beyond its seed corpus.
#   usage: scripts/fuzz.sh [SECONDS-PER-TARGET]   (default 5; FUZZTIME too)
# Each new input is minimised for at most FUZZMINIMIZETIME (default 1s;
# Go's "Ns" or "Nx", N runs): with Go's default of 60s, a target could
# spend its whole run minimising, at "execs: 8".
# Targets are found with `go test -list`, so a new FuzzX runs without
# being named here. A failure leaves its input under the package's
# testdata/fuzz/FuzzX/ for `go test -run=FuzzX/NAME` to replay.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-${FUZZTIME:-5}}
case $secs in ''|*[!0-9]*) echo "fuzz.sh: seconds must be a whole number, not '$secs'" >&2; exit 2;; esac
minimize=${FUZZMINIMIZETIME:-1s}
case $minimize in [0-9]*s|[0-9]*x) ;; *) echo "fuzz.sh: FUZZMINIMIZETIME must be Ns or Nx, not '$minimize'" >&2; exit 2;; esac
case ${minimize%?} in *[!0-9]*) echo "fuzz.sh: FUZZMINIMIZETIME must be Ns or Nx, not '$minimize'" >&2; exit 2;; esac

# Go before 1.27 can fail a target that found nothing when -fuzztime
# runs out: its coordinator reads the deadline before its workers'
# context is cancelled (go.dev/issue/75804). That failure says only
# "context deadline exceeded" under the target's FAIL line and writes no
# input; a real finding always writes one, so only the former is retried.
deadline_race() {
	! grep -q 'Failing input written to' "$1" &&
		grep -A1 -- '^--- FAIL: Fuzz' "$1" | tail -n1 | grep -qx '[[:space:]]*context deadline exceeded'
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
ran=0
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz.sh: $pkg $target (${secs}s)"
		tries=1
		until go test -run='^$' -fuzz="^${target}\$" -fuzztime="${secs}s" -fuzzminimizetime="$minimize" "$pkg" >"$log" 2>&1; do
			cat "$log"
			if deadline_race "$log" && [ "$tries" -lt 3 ]; then
				tries=$((tries + 1))
				echo "fuzz.sh: $target stopped on Go's fuzztime race (go.dev/issue/75804), not on an input; try $tries of 3"
				continue
			fi
			echo "fuzz.sh: $target in $pkg failed" >&2
			exit 1
		done
		ran=$((ran + 1))
	done
done
echo "fuzz.sh: $ran targets, ${secs}s each, no failures"
