package replay

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"podlab/netview"
)

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestReplay(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Run("lesson recording", func(t *testing.T) {
		r, err := Open(filepath.Join("..", "..", "netview", "testdata", "lesson.json"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		p, err := r.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind() != "recording" || !strings.HasPrefix(r.Describe(), "recording ") {
			t.Errorf("kind %q describe %q", r.Kind(), r.Describe())
		}
		if eth0 := p.Pod.LinkByName("eth0"); eth0 == nil || eth0.Index != 3 || eth0.ParentIndex != 9 {
			t.Errorf("pod eth0 %+v", eth0)
		}
		// Each Collect is a copy: changing one leaves the next intact.
		p.Pod.Links[0].Name = "changed"
		q, _ := r.Collect(ctx)
		if q.Pod.Links[0].Name == "changed" {
			t.Error("Collect returned shared state")
		}
		if !equalJSON(q.Pod, r.Recording().Pod) || !equalJSON(q.Host, r.Recording().Host) || !equalJSON(q.Facts, r.Recording().Facts) {
			t.Error("Collect differs from the recording")
		}
	})
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema": "podlab/v1", "pod": {`), 0o600)
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, netview.MaxRecording+1); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"schema": "podlab/v9"}`), 0o600)
	for _, tt := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope.json"), "not found: give the path of a file written by `podlab record`"},
		{"malformed", bad, "not valid JSON"},
		{"other schema", other, "is not supported"},
		{"directory", dir, "recording"},
		{"device", "/dev/zero", "not a podlab recording (byte 0 is '\\x00'"},
		{"too large", big, "more than the 64 MiB podlab reads"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.path, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err %v, want one line containing %q", err, tt.want)
			}
		})
	}
}
