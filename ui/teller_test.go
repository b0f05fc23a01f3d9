package ui

import (
	"slices"
	"testing"
)

// Commands run in any order: the class hears the latest step, never an
// older one after it.
func TestTellerDropsOlder(t *testing.T) {
	tests := []struct {
		name  string
		order []int // which of three calls run, in this order
		want  []int
	}{
		{"in order", []int{0, 1, 2}, []int{0, 1, 2}},
		{"the last first", []int{2, 0, 1}, []int{2}},
		{"swapped", []int{1, 0, 2}, []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tl teller
			seqs := []uint64{tl.made.Add(1), tl.made.Add(1), tl.made.Add(1)}
			var ran []int
			for _, i := range tt.order {
				tl.tell(seqs[i], func() { ran = append(ran, i) })
			}
			if !slices.Equal(ran, tt.want) {
				t.Errorf("ran %v, want %v", ran, tt.want)
			}
		})
	}
}
