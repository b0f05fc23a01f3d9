#!/usr/bin/env bash
# bench-startup.sh [OLDREV]: podlab's size and start-up, OLDREV (default
# 12de253, before the cobra command line) beside this worktree, both built
# as the release builds them (static, stripped, -trimpath).
#
# Prints for each: the binary's size; `podlab version` (the old one has
# none: `podlab help`) with hyperfine (median, min, user+sys); its peak
# RSS (median of 9, /usr/bin/time); its package initialisation
# (GODEBUG=inittrace=1, mean of 10: total and the costliest packages); and
# the time from start to the lesson's first frame on the built-in
# recording in a tmux of 120x40 (median of 9, polled every 2 ms).
#
# Needs hyperfine, time (/usr/bin/time) and tmux. Timings on a shared,
# loaded machine vary: compare the two in one run, and prefer min and
# user+sys to the mean.
set -euo pipefail
old=${1:-12de253}
root=$(cd "$(dirname "$0")/.." && pwd)
for c in hyperfine /usr/bin/time tmux; do
  command -v "$c" >/dev/null || { echo "bench-startup.sh: $c is not installed (apt-get install ${c##*/})" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build() { (cd "$1" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -buildid=" -o "$2" .); }
mkdir -p "$work/old"
git -C "$root" archive "$old" | tar -x -C "$work/old"
build "$work/old" "$work/podlab-old"
build "$root" "$work/podlab-new"
if "$work/podlab-old" version >/dev/null 2>&1; then oldcmd=version; else oldcmd=help; fi

frame() {
  for i in $(seq 9); do
    sock=podlab-bench-$$-$i
    t0=$(date +%s%N)
    tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 40 -e TERM=xterm-256color "$1 --lab recording --plain"
    until tmux -L "$sock" capture-pane -p 2>/dev/null | grep -q refreshed; do sleep 0.002; done
    t1=$(date +%s%N)
    tmux -L "$sock" kill-server
    echo $(((t1 - t0) / 1000000))
  done | sort -n | sed -n 5p
}
rss() {
  for i in $(seq 9); do /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; done | sort -n | sed -n 5p
}
inits() {
  for i in $(seq 10); do GODEBUG=inittrace=1 "$@" 2>&1 >/dev/null | awk '$1 == "init" {print $2, $5}'; done |
    awk '{t[$1] += $2 / 10} END {for (k in t) print t[k], k}' | sort -rn >"$work/init"
  awk '{s += $1} END {printf "%.1f ms total; ", s}' "$work/init"
  head -n 4 "$work/init" | awk '{printf "%s %.1f ms; ", $2, $1}'
  echo
}

hyperfine -N -w 5 -r 60 --export-json "$work/hf.json" "$work/podlab-old $oldcmd" "$work/podlab-new version" >/dev/null
for v in old new; do
  bin=$work/podlab-$v
  cmd=version
  [ $v = old ] && cmd=$oldcmd
  echo "== $v ($([ $v = old ] && echo "$old" || git -C "$root" rev-parse --short HEAD))"
  echo "size:        $(stat -c %s "$bin") bytes"
  python3 - "$work/hf.json" "$bin $cmd" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["command"] == sys.argv[2]:
        print(f"{sys.argv[2].split('/')[-1]:12s} median {r['median']*1e3:.1f} ms, min {r['min']*1e3:.1f} ms, user+sys {(r['user']+r['system'])*1e3:.1f} ms")
PY
  echo "peak RSS:    $(( $(rss "$bin" $cmd) / 1024 )) MiB"
  echo "init:        $(inits "$bin" $cmd)"
  echo "first frame: $(frame "$bin") ms"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
