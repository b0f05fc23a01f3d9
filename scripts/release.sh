#!/usr/bin/env bash
# release.sh VERSION [OUTDIR]: podlab's release for the lab's VMs.
#
# Builds CGO-free, static, stripped binaries for linux/amd64 and
# linux/arm64 with VERSION, the commit and the commit's date stamped in,
# packs each as podlab_VERSION_linux_ARCH.tar.gz (with the README and the
# licence), and writes SHA256SUMS and podlab.yaml, the krew plugin
# manifest, into OUTDIR (default dist/).
#
# Reproducible: the same commit gives the same bytes. -trimpath drops
# build paths, the build id is empty, and the only date is the commit's
# (SOURCE_DATE_EPOCH overrides it), also as every file's time in the
# tarballs.
#
# PODLAB_RELEASE_URL is where the tarballs will be downloaded from, for
# the krew manifest (default: a placeholder to replace before publishing).
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
  echo "usage: scripts/release.sh VERSION [OUTDIR]   (e.g. scripts/release.sh 0.1.0)" >&2
  exit 2
fi
version=${1#v}
case $version in
  *[!0-9A-Za-z.+-]*) echo "release.sh: version $1: use digits, letters, '.', '+' and '-' only" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
outdir=${2:-$root/dist}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
cd "$root"

if git rev-parse --verify -q HEAD >/dev/null 2>&1; then
  commit=$(git rev-parse HEAD)
  epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct HEAD)}
  if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "release.sh: warning: the worktree has uncommitted changes; the binaries are not the commit's" >&2
    commit=$commit-dirty
  fi
else
  commit=unknown
  epoch=${SOURCE_DATE_EPOCH:-0}
fi
date=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
url=${PODLAB_RELEASE_URL:-https://example.invalid/podlab/releases/download/v$version}
docs=(README.md)
if [ -f LICENSE ]; then
  docs+=(LICENSE)
else
  echo "release.sh: warning: no LICENSE file in the repository; the tarballs carry the README only" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
archs=(amd64 arm64)
for arch in "${archs[@]}"; do
  name=podlab_${version}_linux_${arch}
  mkdir -p "$work/$name"
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOFLAGS=-buildvcs=false \
    go build -trimpath -o "$work/$name/podlab" \
    -ldflags "-s -w -buildid= -X podlab/cli.version=$version -X podlab/cli.commit=$commit -X podlab/cli.date=$date" .
  cp "${docs[@]}" "$work/$name/"
  # kubectl (1.26 and later) completes `kubectl podlab ...` by running
  # kubectl_complete-podlab from PATH.
  printf '#!/bin/sh\n# Completes `kubectl podlab ...` for kubectl.\nexec kubectl-podlab __complete "$@"\n' > "$work/$name/kubectl_complete-podlab"
  chmod 0755 "$work/$name/podlab" "$work/$name/kubectl_complete-podlab"
  chmod 0644 "${docs[@]/#/$work/$name/}"
  # Fixed order, owner and times, and no name or time in the gzip header.
  tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@$epoch" --format=gnu -cf - "$name" | gzip -9 -n > "$outdir/$name.tar.gz"
  echo "release.sh: $outdir/$name.tar.gz ($(du -h "$work/$name/podlab" | cut -f1) binary)"
done

(cd "$outdir" && sha256sum podlab_"${version}"_linux_*.tar.gz > SHA256SUMS)

# The krew manifest: krew unpacks the tarball and links bin as
# kubectl-podlab, which makes `kubectl podlab`.
sum() { awk -v f="podlab_${version}_linux_$1.tar.gz" '$2 == f { print $1 }' "$outdir/SHA256SUMS"; }
{
  cat <<YAML
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: podlab
spec:
  version: v$version
  shortDescription: The terminal companion to the Calico lesson Pod Connectivity Fundamentals
  description: |
    podlab walks the lesson "Pod Connectivity Fundamentals" step by step
    beside the live network state of a pod and of its node: the pod's and
    the host's interfaces, routes and neighbours, side by side, with what
    Calico made of them highlighted. It reads the pod through the
    kubeconfig, as kubectl does, and its node over ssh with podlab collect.
  caveats: |
    Reading the node needs podlab on the node too, and a sudoers line
    there: see the README's install section.
  platforms:
YAML
  for arch in "${archs[@]}"; do
    cat <<YAML
  - selector:
      matchLabels:
        os: linux
        arch: $arch
    uri: $url/podlab_${version}_linux_$arch.tar.gz
    sha256: $(sum "$arch")
    bin: podlab
    files:
    - from: podlab_${version}_linux_$arch/*
      to: .
YAML
  done
} > "$outdir/podlab.yaml"
echo "release.sh: $outdir/SHA256SUMS, $outdir/podlab.yaml"
