package progress

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoad: whatever a progress file holds, Load (its decoding, past the
// bounded read) does not panic; it either refuses it with the one-line ErrCorrupt error naming the file,
// or gives a progress that saves and loads back the same.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		`{"version":1}`,
		`{"version":1,"last":"2.4","steps":{"1.1":{"done":true},"2.4":{"done":true,"answers":2}}}`,
		`{"version":1,"steps":{}}`,
		`{"version":1,"steps":{"2.1":{}}}`,
		`{"version":1,"last":"\u001b[2J"}`,
		`{"version":1,"last":"\xff"}`,
		`{"version":1}{}`,
		`{"version":1,"steps":{"2.1":{"answers":-1}}}`,
		`{"version":2}`,
		`{"version":1,"version":1}`,
		`{"version":1,"colour":"red"}`,
		`{"version":1,"steps":null}`,
		`{"version":1,"pack":"my-lesson@0.1.0","last":"1.1"}`,
		`[]`,
		``,
		"\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const path = "/home/student/progress.json"
		p, pack, err := decode(path, data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode: %v, want ErrCorrupt", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error %q: want one line starting with the file", msg)
			}
			return
		}
		saved, err := encode(p, pack)
		if err != nil {
			t.Fatal(err)
		}
		q, qpack, err := decode(path, saved)
		if err != nil {
			t.Fatalf("a loaded progress, saved, does not load: %v\n%s", err, saved)
		}
		if !reflect.DeepEqual(normal(p), normal(q)) || pack != qpack {
			t.Fatalf("loaded %+v, saved and loaded again %+v", p, q)
		}
	})
}

// normal drops the difference between no steps and an empty map, which
// the file does not keep.
func normal(p *Progress) *Progress {
	if len(p.Steps) == 0 {
		return &Progress{Last: p.Last}
	}
	return p
}
