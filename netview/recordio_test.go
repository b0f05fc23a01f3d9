package netview

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestRecordingRoundTrip(t *testing.T) {
	want := lessonRecording()
	var buf bytes.Buffer
	if err := WriteRecording(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRecording(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip changed the recording:\n got %+v\nwant %+v", got, want)
	}
	if l := got.Host.LinkByName("eth0"); l.LinkNetNSID != -1 {
		t.Errorf("host eth0 link-netnsid = %d, want -1", l.LinkNetNSID)
	}
	if l := got.Pod.LinkByName("eth0"); l.LinkNetNSID != 0 {
		t.Errorf("pod eth0 link-netnsid = %d, want 0", l.LinkNetNSID)
	}
}

func TestReadRecordingRefuses(t *testing.T) {
	var lesson bytes.Buffer
	if err := WriteRecording(&lesson, lessonRecording()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "recording is empty"},
		{"future schema", `{"schema":"podlab/v2","pod":{},"host":{}}`,
			`recording schema "podlab/v2" is not supported (this podlab reads podlab/v1): re-record it with this version`},
		{"no schema", `{"pod":{}}`, "no schema field"},
		{"broken", "{\n  \"schema\": \"podlab/v1\",\n  \"pod\": {,\n}", "line 3, column 11"},
		{"wrong type", "{\"schema\":\"podlab/v1\",\n\"pod\":{\"links\":[{\"index\":\"one\"}]}}", "line 2"},
		{"truncated", lesson.String()[:200], "not valid JSON"},
		{"no pod", `{"schema":"podlab/v1","host":{"links":[{"index":1,"name":"lo"}]}}`, "no pod snapshot"},
		{"no host", `{"schema":"podlab/v1","pod":{"links":[{"index":1,"name":"lo"}]}}`, "no host snapshot"},
		{"neither", `{"schema":"podlab/v1"}`, "neither a pod nor a host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := ReadRecording(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("accepted: %+v", rec)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestLinkMissingNetNSID(t *testing.T) {
	rec, err := ReadRecording(strings.NewReader(`{"schema":"podlab/v1",
		"pod":{"links":[{"index":3,"name":"eth0","parent_index":9,"link_netnsid":0}]},
		"host":{"links":[{"index":1,"name":"lo"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Host.Links[0].LinkNetNSID; got != -1 {
		t.Errorf("absent link_netnsid read as %d, want -1", got)
	}
	if got := rec.Pod.Links[0].LinkNetNSID; got != 0 {
		t.Errorf("link_netnsid 0 read as %d", got)
	}
}

// endless is an unbounded stream: prefix, then fill for ever.
type endless struct {
	prefix string
	fill   byte
	n      int64
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		if e.n < int64(len(e.prefix)) {
			p[i] = e.prefix[e.n]
		} else {
			p[i] = e.fill
		}
		e.n++
	}
	return len(p), nil
}

func TestReadRecordingBounded(t *testing.T) {
	tests := []struct {
		name     string
		r        *endless
		want     string
		maxBytes int64
	}{
		// /dev/zero: refused at its first byte.
		{"zeros", &endless{fill: 0}, `byte 0 is '\x00'`, 1 << 20},
		// A JSON object that never ends: refused at the limit.
		{"endless object", &endless{prefix: `{"note":"`, fill: 'a'}, "larger than 64 MiB", MaxRecording + 1<<20},
		{"endless space", &endless{fill: ' '}, "larger than 64 MiB", MaxRecording + 1<<20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := ReadRecording(tt.r)
			if err == nil {
				t.Fatalf("accepted: %+v", rec)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line saying %q", err, tt.want)
			}
			if tt.r.n > tt.maxBytes {
				t.Errorf("read %d bytes, want at most %d", tt.r.n, tt.maxBytes)
			}
		})
	}
}

func TestReadRecordingSanitises(t *testing.T) {
	rec := lessonRecording()
	rec.Note = "note\x1b]52;c;aGk=\x07"
	rec.Pod.Links[0].Name = "eth0\x1b]0;owned\x1b\\"
	rec.Facts.Pod.Name = "pod\u009b31m"
	var buf bytes.Buffer
	if err := WriteRecording(&buf, rec); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRecording(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var dirty []string
	dirtyStrings(reflect.ValueOf(got), "recording", &dirty)
	if len(dirty) > 0 {
		t.Errorf("read recording still carries control characters in %v", dirty)
	}
	if want := `eth0\x1b]0;owned\x1b\`; got.Pod.Links[0].Name != want {
		t.Errorf("name read as %q, want %q", got.Pod.Links[0].Name, want)
	}
}

// A route's next hops are an addition to podlab/v1: a recording made
// before them reads with none, one made after keeps them.
func TestRecordingNextHops(t *testing.T) {
	t.Run("old recording", func(t *testing.T) {
		rec := loadLesson(t)
		for _, r := range append(rec.Pod.Routes, rec.Host.Routes...) {
			if r.NextHops != nil {
				t.Errorf("%s has next hops %+v in a recording that has none", r.Dst, r.NextHops)
			}
		}
	})
	t.Run("round trip", func(t *testing.T) {
		want := lessonRecording()
		want.Host.Routes = append(want.Host.Routes, Route{Family: 4, Table: TableMain, Type: "unicast",
			Dst: mp("198.19.24.0/26"), Scope: "universe", Protocol: ProtoBird, NextHops: []NextHop{
				{Gw: ma("198.19.0.1"), Dev: "eth0", DevIndex: 2, Weight: 1},
				{Gw: ma("198.19.0.3"), Dev: "eth0", DevIndex: 2, Weight: 3, Flags: []string{"onlink"}},
			}})
		var buf bytes.Buffer
		if err := WriteRecording(&buf, want); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `"nexthops": [`) {
			t.Fatalf("no nexthops written:\n%s", buf.String())
		}
		got, err := ReadRecording(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip changed the next hops:\n got %+v\nwant %+v", got.Host.Routes, want.Host.Routes)
		}
	})
}
