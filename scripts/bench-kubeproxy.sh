#!/bin/bash
# bench-kubeproxy: podlab's kube-proxy reader against iptables-save, side
# by side in one run. It writes kube-proxy's nat rules for N services and
# M endpoints (5,000 and 20,000 by default; the lesson's summary service
# among them), loads them with iptables-restore into a throw-away
# namespace (removed on exit), then alternates, ROUNDS times:
#   iptables-save -c -t nat          (output to /dev/null)
#   podlab's reader + the walk of yaobank/summary:http
#   podlab show --pack kube-proxy (the whole command: the namespaces read,
#     the NAT rules read, the lesson's chains laid out and explained)
# the first two started in the namespace the same way (kpbench), and prints the
# medians of wall time, CPU time and peak RSS, and the ratios. The reader
# runs with GOGC 400, as podlab show does; GOGC in the environment rules.
#   usage: sudo scripts/bench-kubeproxy.sh [services] [endpoints] [rounds] [nft]
# Targets: wall ≤ 1.2x iptables-save's, podlab's peak RSS ≤ 64 MiB.
# With a fourth argument "nft", kube-proxy's nftables mode instead: the
# table loaded with nft -f, `nft list table ip kube-proxy` against
# podlab's nftables reader.
set -euo pipefail
cd "$(dirname "$0")/.."
svcs=${1:-5000} eps=${2:-20000} rounds=${3:-9} mode=${4:-iptables}
case $mode in iptables | nft) ;; *) echo "bench-kubeproxy: the fourth argument is nft or nothing, not '$mode'" >&2; exit 2 ;; esac
for v in "$svcs" "$eps" "$rounds"; do
	case $v in '' | *[!0-9]*) echo "bench-kubeproxy: arguments are whole numbers, not '$v'" >&2; exit 2 ;; esac
done
[ "$(id -u)" = 0 ] || { echo "bench-kubeproxy: needs root to make a namespace: sudo $0" >&2; exit 1; }
if [ "$mode" = nft ]; then
	command -v nft >/dev/null || { echo "bench-kubeproxy: needs nft (apt-get install nftables)" >&2; exit 1; }
	base=(nft list table ip kube-proxy) genflag=-nft readflag=-nft
else
	command -v iptables-restore >/dev/null || { echo "bench-kubeproxy: needs iptables (apt-get install iptables)" >&2; exit 1; }
	base=(iptables-save -c -t nat) genflag= readflag=
fi

tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ns=plkp$tag
podns=plkp${tag}p
dir=$(mktemp -d)
cleanup() { ip netns del "$ns" 2>/dev/null || true; ip netns del "$podns" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
ip netns add "$ns"
ip netns add "$podns"

go build -o "$dir/kpbench" ./internal/kpgen/kpbench
go build -trimpath -ldflags=-s -o "$dir/podlab" .
show=("$dir/podlab" show --pack kube-proxy --lab netns --host-netns "$ns" --pod-netns "$podns" --plain)
"$dir/kpbench" gen $genflag -services "$svcs" -endpoints "$eps" >"$dir/rules"
if [ "$mode" = nft ]; then
	ip netns exec "$ns" nft -f "$dir/rules"
	echo "namespace $ns: $svcs services, $eps endpoints, $(wc -l <"$dir/rules") lines of nft -f input; $(nft --version)"
else
	ip netns exec "$ns" iptables-restore "$dir/rules"
	echo "namespace $ns: $svcs services, $eps endpoints, $(wc -l <"$dir/rules") lines of iptables-restore input; $(iptables-save --version)"
fi

# One of each to warm the caches, then the rounds, alternating.
"$dir/kpbench" time -netns "$ns" -- "${base[@]}" >/dev/null
"$dir/kpbench" read $readflag -netns "$ns" >/dev/null
"$dir/kpbench" time -- "${show[@]}" >/dev/null
for _ in $(seq "$rounds"); do
	"$dir/kpbench" time -netns "$ns" -- "${base[@]}" >>"$dir/save"
	"$dir/kpbench" read $readflag -netns "$ns" >>"$dir/read"
	"$dir/kpbench" time -- "${show[@]}" >>"$dir/show"
done
head -n1 "$dir/read" | sed 's/^/first podlab run: /'

# median FILE FIELD: the median of the value after the word FIELD.
median() {
	awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i+1) }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }'
}
sw=$(median "$dir/save" wall_ms) sc=$(median "$dir/save" cpu_ms) sr=$(median "$dir/save" rss_mib)
rw=$(median "$dir/read" wall_ms) rc=$(median "$dir/read" cpu_ms) rr=$(median "$dir/read" rss_mib)
rs=$(median "$dir/read" self_cpu_ms)
pw=$(median "$dir/show" wall_ms) pc=$(median "$dir/show" cpu_ms) pr=$(median "$dir/show" rss_mib)
awk -v sw="$sw" -v sc="$sc" -v sr="$sr" -v rw="$rw" -v rc="$rc" -v rr="$rr" -v rs="$rs" -v pw="$pw" -v pc="$pc" -v pr="$pr" -v n="$rounds" -v b="${base[*]}" 'BEGIN {
	printf "medians of %d rounds             wall ms   CPU ms   peak RSS MiB\n", n
	printf "%-30s %8.1f %8.1f %10.1f\n", b, sw, sc, sr
	printf "podlab reader + walk           %8.1f %8.1f %10.1f   (its own CPU %.1f ms)\n", rw, rc, rr, rs
	printf "podlab show --pack kube-proxy  %8.1f %8.1f %10.1f\n", pw, pc, pr
	printf "ratio podlab / %s: wall %.2fx, CPU %.2fx (target <= 1.2x wall), podlab RSS %.1f MiB (target <= 64)\n", b, rw / sw, rc / sc, rr
	printf "ratio podlab show --pack kube-proxy / %s: wall %.2fx, CPU %.2fx (target <= 1.2x wall), RSS %.1f MiB (target <= 64)\n", b, pw / sw, pc / sc, pr
}'
