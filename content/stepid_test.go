package content

import "testing"

func TestParseStepID(t *testing.T) {
	tests := []struct {
		in   string
		want StepID
		ok   bool
	}{
		{"2.4", StepID{2, 4}, true},
		{"1.1", StepID{1, 1}, true},
		{"99.99", StepID{99, 99}, true},
		{"0.1", StepID{}, false},
		{"1.0", StepID{}, false},
		{"100.1", StepID{}, false},
		{"01.2", StepID{}, false},
		{"1.02", StepID{}, false},
		{"+1.2", StepID{}, false},
		{"1.-2", StepID{}, false},
		{" 1.2", StepID{}, false},
		{"1.2.3", StepID{}, false},
		{"12", StepID{}, false},
		{"", StepID{}, false},
		{"a.b", StepID{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseStepID(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseStepID(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if ok && got.String() != tt.in {
				t.Errorf("%q reads back as %q", tt.in, got.String())
			}
		})
	}
}
