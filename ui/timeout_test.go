package ui

import (
	"testing"
	"time"
)

type boundedSource struct{ d time.Duration }

func (b boundedSource) CollectTimeout() time.Duration { return b.d }

// TestTimeoutOf: a lab that says a collection may take longer than the
// screen's own bound (a cluster's ssh round) is waited for that long.
func TestTimeoutOf(t *testing.T) {
	tests := []struct {
		name string
		src  any
		want time.Duration
	}{
		{"unbounded", struct{}{}, 20 * time.Second},
		{"longer", boundedSource{50 * time.Second}, 50 * time.Second},
		{"shorter", boundedSource{time.Second}, 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := timeoutOf(tt.src); got != tt.want {
				t.Errorf("timeoutOf = %s, want %s", got, tt.want)
			}
		})
	}
}
