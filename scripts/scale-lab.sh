#!/bin/bash
# scale-lab: a node namespace at a real node's scale, for podlab's scale
# benchmarks: PODS pod veths wired as Calico's CNI plugin wires them, one
# real pod namespace (the first pod), and ROUTES routes in the node's main
# table (the pods' /32s plus other nodes' /26 blocks learnt by BIRD).
#   usage: sudo scripts/scale-lab.sh up [PODS [ROUTES]]   (default 110 20000)
#          sudo scripts/scale-lab.sh down
#          scripts/scale-lab.sh names                     (prints HOST POD)
# Namespaces are named $PODLAB_SCALE_PREFIX-{host,pod,peers,fab} (default
# prefix plscale), so several labs can coexist.
set -euo pipefail
prefix=${PODLAB_SCALE_PREFIX:-plscale}
batch= host=$prefix-host pod=$prefix-pod peers=$prefix-peers fabric=$prefix-fab

down() {
	for n in $pod $peers $host $fabric; do ip netns del "$n" 2>/dev/null || true; done
}

up() {
	local pods=${1:-110} routes=${2:-20000}
	[[ $pods =~ ^[0-9]+$ && $pods -ge 1 && $pods -le 4000 ]] || { echo "scale-lab: PODS must be 1..4000, got '$pods'" >&2; exit 2; }
	[[ $routes =~ ^[0-9]+$ && $routes -le 1000000 ]] || { echo "scale-lab: ROUTES must be 0..1000000, got '$routes'" >&2; exit 2; }
	[ "$(id -u)" = 0 ] || { echo "scale-lab: needs root to make namespaces: sudo $0 up" >&2; exit 1; }
	down
	trap 'down' ERR
	for n in $fabric $host $pod $peers; do ip netns add "$n"; done
	local hb pb
	batch=$(mktemp -d)
	trap 'rm -rf "${batch:-}"' EXIT
	hb=$batch/host pb=$batch/peers
	# The node: an uplink to the fabric and a default route through it.
	ip -n "$host" link add eth0 type veth peer name fab0 netns "$fabric"
	ip -n "$host" addr add 198.51.100.2/24 dev eth0
	ip -n "$host" link set lo up
	ip -n "$host" link set eth0 up
	ip -n "$fabric" addr add 198.51.100.1/24 dev fab0
	ip -n "$fabric" link set fab0 up
	ip -n "$host" route add default via 198.51.100.1
	ip netns exec "$host" sysctl -qw net.ipv4.ip_forward=1
	# The first pod is a real namespace of its own.
	ip -n "$pod" link add eth0 type veth peer name cali00000000001 netns "$host"
	ip -n "$pod" link set eth0 mtu 1410
	ip -n "$pod" addr add 10.200.0.1/32 dev eth0
	ip -n "$pod" link set lo up
	ip -n "$pod" link set eth0 up
	ip -n "$pod" route add 169.254.1.1 dev eth0 scope link
	ip -n "$pod" route add default via 169.254.1.1 dev eth0
	# The other pods' ends share one namespace: the node sees the same.
	: >"$hb"
	: >"$pb"
	local i cali
	for ((i = 1; i <= pods; i++)); do
		cali=$(printf 'cali%011d' "$i")
		if ((i > 1)); then
			printf 'link add %s type veth peer name p%d netns %s\n' "$cali" "$i" "$peers" >>"$hb"
			printf 'link set p%d up\n' "$i" >>"$pb"
		fi
		printf 'link set %s address ee:ee:ee:ee:ee:ee mtu 1410 up\n' "$cali" >>"$hb"
	done
	ip -n "$host" -batch "$hb"
	ip -n "$peers" -batch "$pb"
	: >"$hb"
	for ((i = 1; i <= pods; i++)); do
		cali=$(printf 'cali%011d' "$i")
		printf 'route add 10.200.%d.%d/32 dev %s scope link\n' $((i / 256)) $((i % 256)) "$cali" >>"$hb"
	done
	# The rest: /26 blocks of other nodes, as BIRD installs them.
	local n=$((routes - pods)) b
	for ((b = 0; b < n; b++)); do
		printf 'route add 10.%d.%d.%d/26 via 198.51.100.1 dev eth0 proto bird\n' \
			$((64 + b / 1024)) $(((b / 4) % 256)) $(((b % 4) * 64)) >>"$hb"
	done
	ip -n "$host" -batch "$hb"
	# proxy_arp on every cali link, one write each (as Felix does).
	ip netns exec "$host" sh -c 'for f in /proc/sys/net/ipv4/conf/cali*/proxy_arp; do echo 1 >"$f"; done'
	trap - ERR
	echo "scale-lab up: $host ($pods pod veths, $(ip -n "$host" route show table main | wc -l) routes in main), pod $pod"
}

case ${1:-} in
up) shift; up "$@" ;;
down) down ;;
names) echo "$host $pod" ;;
*) echo "usage: $0 up [PODS [ROUTES]] | down | names" >&2; exit 2 ;;
esac
