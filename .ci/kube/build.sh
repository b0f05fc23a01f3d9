#!/usr/bin/env bash
# build.sh: build kube-apiserver, etcd and kube-proxy for podlab's cluster
# tests (internal/kubetest) from the Go module proxy, into a cache directory.
#
#   PODLAB_KUBE_BIN  where the binaries go (default
#                    $HOME/.cache/podlab/kube/<k8s version>)
#
# The last line printed is that directory. A second run with every binary
# present, runnable and built from go.sum's modules is a quick no-op; a
# cache missing one binary (kube-proxy, in a cache made before it was
# added) gets that one built, not the others.
#
# Measured on this project's machine (2 cores, 24 GiB):
#   cold (empty build cache, modules already downloaded): 13m43s and 17m19s
#     wall in two runs while other builds shared the 2 cores (load 4-10);
#     CPU 12m20s user + 2m20s sys, so about 7.5 min on 2 idle cores;
#     peak process RSS 2.3 GB, build cache grows by 2.7 GB
#     (kube-apiserver and etcd);
#   all three cold, in this script's order (2026-12-05, load 3-12):
#     kube-apiserver 15m49s, etcd 22s, kube-proxy 27s, 16m39s in all; CPU
#     16m30s user + 5m49s sys; peak RSS 2.3 GB, build cache 2.9 GB. So
#     kube-proxy adds about half a minute: most of its packages are
#     kube-apiserver's. Alone from an empty build cache it took 25m28s
#     under load 10-12 (12m user + 4m sys), peak RSS 1.6 GB;
#   kube-proxy added to a cache holding the other two: 52-59s under load;
#   warm (binaries present and runnable): 0.5s idle, up to 4s under load.
set -euo pipefail

k8s_version=v1.37.2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${PODLAB_KUBE_BIN:-$HOME/.cache/podlab/kube/$k8s_version}
bins=(kube-apiserver etcd kube-proxy)

minor=${k8s_version#v*.}
minor=${minor%%.*}
major=${k8s_version#v}
major=${major%%.*}
pkg=k8s.io/component-base/version
# Without gitVersion the server reports v0.0.0-master and kubectl/client-go
# cannot parse it; the rest mirrors what Kubernetes' own release build sets.
k8s_ldflags="-s -w \
 -X $pkg.gitVersion=$k8s_version \
 -X $pkg.gitMajor=$major \
 -X $pkg.gitMinor=$minor \
 -X $pkg.gitTreeState=clean \
 -X $pkg.buildDate=1970-01-01T00:00:00Z"

ldflags_of() {
	if [ "$1" = etcd ]; then echo "-s -w"; else echo "$k8s_ldflags"; fi
}

# Each binary is keyed on its own inputs, so that adding one to go.mod
# leaves the others in the cache: its recipe (version, flags, the etcd
# wrapper's source) in .recipe.<name>, and the modules it was built from,
# read back from the binary (go version -m), which must be the ones go.sum
# pins.
recipe_of() {
	{
		echo "$k8s_version $1"
		ldflags_of "$1"
		if [ "$1" = etcd ]; then cat "$here/etcd/main.go"; fi
	} | sha256sum | cut -d' ' -f1
}

modules_pinned() {
	go version -m "$1" | awk -v sums="$here/go.sum" '
		BEGIN { while ((getline l < sums) > 0) have[l] = 1 }
		($1 == "dep" || $1 == "=>") && NF == 4 { n++; if (!have[$2 " " $3 " " $4]) bad = 1 }
		END { exit (bad || n == 0) }'
}

current() {
	local name=$1 recipe
	[ -x "$out/$name" ] || return 1
	recipe=$(cat "$out/.recipe.$name" 2>/dev/null || true)
	# A cache from before per-binary keys (one .stamp for kube-apiserver and
	# etcd) was built with today's recipe; its modules are still checked.
	if [ -n "$recipe" ] || [ ! -e "$out/.stamp" ] || [ "$name" = kube-proxy ]; then
		[ "$recipe" = "$(recipe_of "$name")" ] || return 1
	fi
	modules_pinned "$out/$name" || return 1
	if [ "$name" = etcd ]; then
		"$out/etcd" --version >/dev/null 2>&1 || return 1
	else
		"$out/$name" --version 2>/dev/null | grep -qx "Kubernetes $k8s_version" || return 1
	fi
}

stale() {
	local name
	for name in "${bins[@]}"; do
		current "$name" || echo "$name"
	done
}

if [ -z "$(stale)" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$out"
# Two test runs starting at once must not build into the same files.
exec 9>"$out/.lock"
flock 9
todo=$(stale)
if [ -z "$todo" ]; then
	echo "$out"
	exit 0
fi

echo "build.sh: building" $todo "($k8s_version) into $out (cold: about 10 min for all three)" >&2
start=$(date +%s)

export GOFLAGS=-buildvcs=false GOWORK=off CGO_ENABLED=0
cd "$here"
for name in $todo; do
	rm -f "$out/.recipe.$name"
	target=k8s.io/kubernetes/cmd/$name
	if [ "$name" = etcd ]; then target=./etcd; fi
	began=$(date +%s)
	# -p 2: a wider build only adds memory pressure on a 2-core machine.
	go build -p 2 -trimpath -ldflags "$(ldflags_of "$name")" -o "$out/$name.new" "$target"
	mv -f "$out/$name.new" "$out/$name"
	recipe_of "$name" >"$out/.recipe.$name"
	echo "build.sh: $name built in $(($(date +%s) - began))s" >&2
done
# Every binary now has its own key. The old shared .stamp stays: an older
# checkout's build.sh still reads it.
for name in "${bins[@]}"; do
	[ -e "$out/.recipe.$name" ] || recipe_of "$name" >"$out/.recipe.$name"
done

todo=$(stale)
if [ -n "$todo" ]; then
	echo "build.sh: built" $todo "in $out do not run, report the wrong version or were not built from go.sum's modules" >&2
	exit 1
fi
echo "build.sh: built in $(($(date +%s) - start))s" >&2
echo "$out"
