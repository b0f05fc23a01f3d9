package cli

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// lessonMemoryFloor is the lesson's soft memory limit (the Go runtime's
// own memory: the binary's pages are not in it) while what it holds is
// small. On a node of 20,000 routes a change holds the routes and their
// analysis before and after it, and the collector's heap, left to its
// pace, grew the lesson past 64 MiB; near the limit it collects and
// returns memory sooner (scripts/bench-live.sh).
const lessonMemoryFloor = 44 << 20

// headroom is what the runtime needs beside the heap: stacks, the
// collector's own data.
const headroom = 8 << 20

// limitMemory keeps the runtime's soft memory limit at floor, or at the
// live heap and a quarter and 8 MiB more when that is more, looked at
// again after each garbage collection (none runs while nothing is
// allocated): a fixed limit under a larger node's live heap would have
// the collector run without rest.
// A GOMEMLIMIT in the environment is left to rule. stop restores the
// limit there was.
func limitMemory(floor int64) (stop func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	before := debug.SetMemoryLimit(-1)
	var stopped atomic.Bool
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		// A finalizer runs after the collection that finds its object
		// unreachable: one object per collection, each arming the next.
		// It holds a pointer so that it is not batched with other tiny
		// objects, whose finalizers may never run.
		s := &struct{ p *int }{}
		runtime.SetFinalizer(s, func(*struct{ p *int }) {
			if stopped.Load() {
				return
			}
			metrics.Read(sample)
			limit := floor
			if sample[0].Value.Kind() == metrics.KindUint64 {
				live := int64(sample[0].Value.Uint64())
				limit = max(floor, live+live/4+headroom)
			}
			debug.SetMemoryLimit(limit)
			arm()
		})
	}
	debug.SetMemoryLimit(floor)
	arm()
	return func() {
		stopped.Store(true)
		debug.SetMemoryLimit(before)
	}
}
