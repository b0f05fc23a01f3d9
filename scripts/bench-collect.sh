#!/bin/bash
# bench-collect: time podlab's Collect against what a student would run by
# hand in the same namespace (ip -j addr; ip -j link; ip -j route; ip -j
# neigh), and print the ratio. Needs root: it builds a throw-away node and
# pod namespace pair (removed on exit).
#   usage: sudo scripts/bench-collect.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
[ "$(id -u)" = 0 ] || { echo "bench-collect: needs root to make namespaces: sudo $0" >&2; exit 1; }

tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
host=plbh$tag pod=plbp$tag fabric=plbf$tag cali=calib$tag
cleanup() { for n in $pod $host $fabric; do ip netns del "$n" 2>/dev/null || true; done; }
trap cleanup EXIT
for n in $fabric $host $pod; do ip netns add "$n"; done
# The node: an uplink to the fabric and a default route through it.
ip -n $host link add eth0 type veth peer name fab0 netns $fabric
ip -n $host addr add 198.51.100.2/24 dev eth0
ip -n $host link set lo up; ip -n $host link set eth0 up
ip -n $fabric addr add 198.51.100.1/24 dev fab0; ip -n $fabric link set fab0 up
ip -n $host route add default via 198.51.100.1
# The pod, wired as Calico's CNI plugin wires it.
ip -n $pod link add eth0 type veth peer name $cali
ip -n $pod link set $cali netns $host
ip -n $pod link set eth0 mtu 1410; ip -n $pod addr add 10.200.0.7/32 dev eth0
ip -n $pod link set lo up; ip -n $pod link set eth0 up
ip -n $pod route add 169.254.1.1 dev eth0 scope link
ip -n $pod route add default via 169.254.1.1 dev eth0
ip -n $host link set $cali address ee:ee:ee:ee:ee:ee mtu 1410 up
ip netns exec $host sysctl -qw net.ipv4.conf.$cali.proxy_arp=1
ip -n $host route add 10.200.0.7 dev $cali scope link

echo "namespace $host; Collect via go test -bench, ip via $(command -v hyperfine >/dev/null && echo hyperfine || echo "a loop of $runs runs")"
collect_ns=$(PODLAB_BENCH_NS=$host go test -run '^$' -bench '^BenchmarkCollect$' -benchtime 2s ./lab/ |
	awk '/^BenchmarkCollect/ { for (i = 1; i < NF; i++) if ($(i+1) == "ns/op") print $i }')
[ -n "$collect_ns" ] || { echo "bench-collect: the benchmark printed no ns/op" >&2; exit 1; }

ipcmds="ip -n $host -j addr >/dev/null; ip -n $host -j link >/dev/null; ip -n $host -j route >/dev/null; ip -n $host -j neigh >/dev/null"
if command -v hyperfine >/dev/null; then
	json=$(mktemp); trap 'cleanup; rm -f "$json"' EXIT
	hyperfine -N --warmup 10 --runs "$runs" --export-json "$json" "bash -c '$ipcmds'" >/dev/null
	ip_ns=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["results"][0]["mean"]*1e9))' "$json")
else
	for _ in 1 2 3 4 5; do eval "$ipcmds"; done # warm up
	start=$(date +%s%N)
	for _ in $(seq "$runs"); do eval "$ipcmds"; done
	ip_ns=$(( ($(date +%s%N) - start) / runs ))
fi
awk -v c="$collect_ns" -v i="$ip_ns" 'BEGIN {
	printf "Collect (one full snapshot, sysctls and nsids included): %8.3f ms\n", c / 1e6
	printf "ip -j addr; link; route; neigh:                          %8.3f ms\n", i / 1e6
	printf "ratio ip / Collect: %.1fx\n", i / c
}'
