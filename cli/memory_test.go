package cli

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// The lesson's memory limit starts at its floor, follows a live heap
// above it after a collection, and is put back when the lesson ends. A
// GOMEMLIMIT in the environment rules.
func TestLimitMemory(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	t.Run("follows the live heap", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "")
		const floor = 4 << 20
		stop := limitMemory(floor)
		if got := debug.SetMemoryLimit(-1); got != floor {
			t.Fatalf("limit %d at start, want the floor %d", got, floor)
		}
		live := make([][]byte, 64)
		for i := range live {
			live[i] = make([]byte, 1<<20)
		}
		want := int64(64<<20) + 16<<20 + headroom // the live heap and a quarter, and headroom
		deadline := time.Now().Add(10 * time.Second)
		for debug.SetMemoryLimit(-1) < want && time.Now().Before(deadline) {
			runtime.GC() // the finalizer runs after it, on its own goroutine
			time.Sleep(10 * time.Millisecond)
		}
		if got := debug.SetMemoryLimit(-1); got < want {
			t.Errorf("limit %d MiB with 64 MiB live, want at least %d MiB", got>>20, want>>20)
		}
		runtime.KeepAlive(live)
		stop()
		if got := debug.SetMemoryLimit(-1); got != before {
			t.Errorf("limit %d after stop, want %d back", got, before)
		}
	})
	t.Run("GOMEMLIMIT rules", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "1GiB")
		stop := limitMemory(4 << 20)
		defer stop()
		if got := debug.SetMemoryLimit(-1); got != before {
			t.Errorf("limit %d with GOMEMLIMIT set, want %d untouched", got, before)
		}
	})
}
