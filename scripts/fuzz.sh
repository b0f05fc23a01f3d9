#!/usr/bin/env bash
# fuzz.sh: a short, bounded run of every fuzz target in the tree, so CI
# exercises each parser of outside input beyond its seed corpus.
#   usage: scripts/fuzz.sh [SECONDS-PER-TARGET]   (default 5; FUZZTIME too)
# Targets are found with `go test -list`, so a new FuzzX runs without
# being named here. A failure leaves its input under the package's
# testdata/fuzz/FuzzX/ for `go test -run=FuzzX/NAME` to replay.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-${FUZZTIME:-5}}
case $secs in ''|*[!0-9]*) echo "fuzz.sh: seconds must be a whole number, not '$secs'" >&2; exit 2;; esac

log=$(mktemp)
trap 'rm -f "$log"' EXIT
ran=0
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz.sh: $pkg $target (${secs}s)"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="${secs}s" "$pkg" >"$log" 2>&1 || {
			cat "$log"
			echo "fuzz.sh: $target in $pkg failed" >&2
			exit 1
		}
		ran=$((ran + 1))
	done
done
echo "fuzz.sh: $ran targets, ${secs}s each, no failures"
