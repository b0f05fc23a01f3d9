#!/bin/bash
# bench-live: the TUI on a live lab, in a real terminal (tmux), as a student
# sees it. For each lab it starts `podlab` at the section whose panes show
# the node's routes, then measures:
#   change   a route added in the node's namespace (ip route add) to the
#            screen saying so, polled with tmux capture-pane every 2 ms
#            (median and max of ROUNDS)
#   idle     the CPU podlab uses over 10 s with nothing changing (% of a core)
#   rss      podlab's peak RSS (VmHWM) at the end
# and, for comparison, the idle CPU of a bubbletea program that does
# nothing at all (scripts/idlefloor): the floor its frame clock sets.
# Labs: "scale" is scripts/scale-lab.sh's node (110 pod veths, ROUTES
# routes); "sandbox" is `podlab sandbox up` (skipped with --no-sandbox or
# without bird2).
#   usage: sudo scripts/bench-live.sh [--no-sandbox] [ROUNDS [ROUTES...]]  (default 15 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
sandbox=1
if [ "${1:-}" = --no-sandbox ]; then sandbox=0; shift; fi
rounds=${1:-15}
shift || true
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(20000)
[ "$(id -u)" = 0 ] || { echo "bench-live: needs root to make namespaces: sudo $0" >&2; exit 1; }
command -v tmux >/dev/null || { echo "bench-live: needs tmux (apt-get install tmux)" >&2; exit 1; }

export PODLAB_SCALE_PREFIX=${PODLAB_SCALE_PREFIX:-pllive$$}
bin=$(mktemp -d)
sock=$bin/tmux.sock
state=$bin/sandbox
sbprefix=plb$$
sb=(--sandbox-prefix "$sbprefix" --sandbox-state-dir "$state")
tm() { tmux -S "$sock" "$@"; }
cleanup() {
	tm kill-server 2>/dev/null || true
	scripts/scale-lab.sh down
	[ -d "$state" ] && "$bin/podlab" sandbox down "${sb[@]}" >/dev/null 2>&1 || true
	rm -rf "$bin"
}
trap cleanup EXIT
# Built as scripts/release.sh builds what students run: static, stripped.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/podlab" .
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/idlefloor" ./scripts/idlefloor

now() { date +%s%N; }
screen() { tm capture-pane -p -t bench; }
# waitfor TEXT: polls the screen until it shows TEXT (10 s at most).
waitfor() {
	local end=$(($(now) + 10000000000))
	until screen | grep -qF -- "$1"; do
		(($(now) < end)) || { echo "bench-live: the screen never showed '$1':" >&2; screen >&2; exit 1; }
		sleep 0.002
	done
}
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# idlecpu PID: the CPU PID uses over the next 10 s, in % of a core.
idlecpu() {
	local c0 c1 hz
	hz=$(getconf CLK_TCK)
	c0=$(cputicks "$1")
	sleep 10
	c1=$(cputicks "$1")
	echo "$c0 $c1 $hz" | awk '{print ($2-$1)/$3/10*100}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# run LABEL NS CMD...: podlab CMD in tmux, routes added in namespace NS.
run() {
	local label=$1 ns=$2 pid t0 t1 i idle
	shift 2
	tm kill-server 2>/dev/null || true
	tm new-session -d -s bench -x 160 -y 48 "$*; sleep 600"
	waitfor "refreshed"
	pid=$(pgrep -f -n "^$bin/podlab ")
	sleep 1
	: >"$bin/lag"
	for ((i = 1; i <= rounds; i++)); do
		ip -n "$ns" route add blackhole "10.250.$i.0/24"
		t0=$(now)
		waitfor "10.250.$i.0/24"
		t1=$(now)
		echo $(((t1 - t0) / 1000)) >>"$bin/lag"
		sleep 2.5 # past the refresh that follows a change, which ends its marks
	done
	for ((i = 1; i <= rounds; i++)); do ip -n "$ns" route del blackhole "10.250.$i.0/24"; done
	sleep 3 # the refresh that follows a change, then quiet
	idle=$(idlecpu "$pid")
	printf '%-8s change→screen median %6.1f ms  max %6.1f ms   idle CPU %4.1f%%   peak RSS %5.1f MiB\n' "$label" \
		"$(median <"$bin/lag" | awk '{print $1/1000}')" "$(sort -n "$bin/lag" | tail -n1 | awk '{print $1/1000}')" \
		"$idle" \
		"$(awk '/VmHWM/ {print $2/1024}' "/proc/$pid/status")"
	tm kill-server 2>/dev/null || true
}

for routes in "${scales[@]}"; do
	scripts/scale-lab.sh up 110 "$routes" >/dev/null
	read -r host pod < <(scripts/scale-lab.sh names)
	n=$(ip -n "$host" route show table all | wc -l)
	echo "== scale lab: $routes routes asked ($n in the node's tables), 110 pod veths, $rounds rounds, tmux 160x48"
	run "scale" "$host" "$bin/podlab" --plain --section 4 --lab netns --host-netns "$host" --pod-netns "$pod"
	scripts/scale-lab.sh down
done

if ((sandbox)) && command -v bird >/dev/null; then
	"$bin/podlab" sandbox up "${sb[@]}" >/dev/null
	echo "== sandbox, $rounds rounds, tmux 160x48"
	run "sandbox" "$sbprefix-node1" "$bin/podlab" --plain --section 4 --lab sandbox "${sb[@]}"
fi

# The floor: an empty bubbletea program, idle in the same terminal.
tm kill-server 2>/dev/null || true
tm new-session -d -s bench -x 160 -y 48 "$bin/idlefloor; sleep 600"
waitfor "nothing changes here"
pid=$(pgrep -f -n "^$bin/idlefloor")
sleep 1
printf '%-8s an empty bubbletea program                          idle CPU %4.1f%%\n' "floor" "$(idlecpu "$pid")"
tm kill-server 2>/dev/null || true
