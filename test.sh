#!/usr/bin/env bash
# test.sh: podlab's whole test suite, set-up included.
#
# As root it installs what the live tests need (iproute2, bird2, tmux,
# openssh, sudo, kubectl, qemu-user-static, iptables, nftables) and builds the test API server
# (kube-apiserver, etcd and kube-proxy, cached under ~/.cache/podlab/kube). As a plain
# user the tests that need root or
# the API server skip; with PODLAB_REQUIRE_ROOT=1 / PODLAB_REQUIRE_KUBE=1
# (as CI sets them) they fail instead.
set -euo pipefail
cd "$(dirname "$0")"
# bird and sshd live in sbin, which a plain PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

if [ "$(id -u)" = 0 ]; then
  need=()
  command -v ip >/dev/null || need+=(iproute2)
  command -v bird >/dev/null || need+=(bird2)
  # lab/firewall reads kube-proxy's rules with iptables-save and loads
  # them in its tests with iptables-restore and nft -f.
  command -v iptables-save >/dev/null || need+=(iptables)
  command -v nft >/dev/null || need+=(nftables)
  command -v tmux >/dev/null || need+=(tmux)
  command -v ssh >/dev/null || need+=(openssh-client)
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)
  command -v sudo >/dev/null || need+=(sudo)
  # kubectl runs podlab as a plugin (internal/e2e); bookworm's is old but
  # finds and runs kubectl-podlab as today's does. qemu runs the arm64
  # release binary.
  command -v kubectl >/dev/null || need+=(kubernetes-client)
  command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
  if [ ${#need[@]} -gt 0 ]; then
    echo "test.sh: installing ${need[*]}"
    # Keep the packages' own daemons (bird, sshd) from starting on install:
    # the tests start their own, inside their own namespaces. The subshell's
    # trap removes our policy-rc.d even when apt fails.
    (
      if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
      fi
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    )
  fi
fi

# The API server's cold build takes ~10 minutes and ~3 GB: done as root
# (CI), or when asked; a plain user's cluster tests skip without it.
if [ "$(id -u)" = 0 ] || [ "${PODLAB_REQUIRE_KUBE:-}" = 1 ] || [ "${PODLAB_BUILD_KUBE:-}" = 1 ]; then
  PODLAB_KUBE_BIN=$(.ci/kube/build.sh | tail -n 1)
  export PODLAB_KUBE_BIN
else
  echo "test.sh: not building the test API server as a plain user; the cluster tests will skip (PODLAB_BUILD_KUBE=1 builds it)"
fi

go vet ./...
# A short run of every fuzz target (scripts/fuzz.sh finds them).
scripts/fuzz.sh "${PODLAB_FUZZTIME:-5}"
# -p 1 would be slower; the live suites each use their own namespaces and
# names, so packages may run side by side.
go test -race -count=1 -timeout 30m ./... "$@"
