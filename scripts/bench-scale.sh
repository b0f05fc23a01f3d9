#!/bin/bash
# bench-scale: podlab against iproute2 on a node at scale. For each route
# count it builds scripts/scale-lab.sh's lab (110 pod veths), then, in one
# run and interleaved round by round so a noisy machine hits all alike,
# times as whole processes:
#   podlab   podlab show --json --lab netns on the node and pod namespaces
#   ip x8    ip -j link, addr, route show table all, neigh in each of them
#   nldump   a bare vishvananda/netlink dump of both (scripts/nldump)
# and prints median wall times, the ratios to ip x8 and peak RSS (max over
# the rounds; for ip x8 the largest of its eight processes).
#   usage: sudo scripts/bench-scale.sh [ROUNDS [ROUTES...]]  (default 15 1000 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-15}
shift || true
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(1000 20000)
[ "$(id -u)" = 0 ] || { echo "bench-scale: needs root to make namespaces: sudo $0" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench-scale: needs GNU time (apt-get install time)" >&2; exit 1; }

export PODLAB_SCALE_PREFIX=${PODLAB_SCALE_PREFIX:-plbench$$}
bin=$(mktemp -d)
cleanup() { scripts/scale-lab.sh down; rm -rf "$bin"; }
trap cleanup EXIT
# Built as scripts/release.sh builds what students run: static, stripped.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/podlab" . && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/nldump" ./scripts/nldump
read -r host pod < <(scripts/scale-lab.sh names)

# Wall times are taken bare; peak RSS in a separate untimed run, so that
# GNU time's own process adds to nobody's time.
now() { date +%s%N; }
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; }
ip8() {
	local n v
	for n in "$host" "$pod"; do
		for v in link addr "route show table all" neigh; do
			# shellcheck disable=SC2086
			ip -n "$n" -j $v >/dev/null
		done
	done
}
ip8rss() {
	local max=0 r n v
	for n in "$host" "$pod"; do
		for v in link addr "route show table all" neigh; do
			# shellcheck disable=SC2086
			r=$(rss ip -n "$n" -j $v)
			((r > max)) && max=$r
		done
	done
	echo "$max"
}
# timed LABEL CMD...: appends "microseconds rss_kib" to $bin/LABEL.
timed() {
	local label=$1 t0 t1
	shift
	t0=$(now)
	"$@" >/dev/null
	t1=$(now)
	echo "$(( (t1 - t0) / 1000 ))" >>"$bin/$label.us"
}
# median FILE COLUMN
median() { awk -v c="$2" '{print $c}' "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
maxof() { awk -v c="$2" '$c > m {m = $c} END {print m}' "$1"; }

for routes in "${scales[@]}"; do
	scripts/scale-lab.sh up 110 "$routes" >/dev/null
	rm -f "$bin"/*.us "$bin"/*.rss
	podlab=("$bin/podlab" show --json --lab netns --host-netns "$host" --pod-netns "$pod")
	"${podlab[@]}" >/dev/null # warm the page cache
	for ((r = 0; r < rounds; r++)); do
		timed podlab "${podlab[@]}"
		timed ip8 ip8
		timed nldump "$bin/nldump" "$host" "$pod"
		rss "${podlab[@]}" >>"$bin/podlab.rss"
		ip8rss >>"$bin/ip8.rss"
		rss "$bin/nldump" "$host" "$pod" >>"$bin/nldump.rss"
	done
	n=$(ip -n "$host" route show table all | wc -l)
	ipt=$(median "$bin/ip8.us" 1)
	echo "== $routes routes asked ($n in the node's tables), 110 pod veths, $rounds rounds, median wall time"
	for l in ip8 podlab nldump; do
		t=$(median "$bin/$l.us" 1)
		awk -v l="$l" -v t="$t" -v i="$ipt" -v rss="$(maxof "$bin/$l.rss" 1)" 'BEGIN {
			printf "%-7s %8.1f ms  %5.2fx ip x8   peak RSS %6.1f MiB\n", l, t / 1000, t / i, rss / 1024 }'
	done
done
