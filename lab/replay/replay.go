// Package replay is the lab of a recording: a file `podlab record` wrote,
// or the recording of the sandbox built into podlab.
package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"podlab/netview"
)

// Lab is the lab of a recording: what `podlab record` wrote, or the
// recording built into podlab.
type Lab struct {
	name string
	rec  *netview.Recording
}

// Open reads the recording file at path, opened by open (os.Open
// when nil: under sudo the command line opens it with the invoking
// user's rights).
func Open(path string, open func(string) (*os.File, error)) (*Lab, error) {
	if open == nil {
		open = os.Open
	}
	f, err := open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("recording %q not found: give the path of a file written by `podlab record`, or leave --lab out for the built-in recording", path)
		}
		return nil, fmt.Errorf("recording %q cannot be read: %w", path, err)
	}
	defer f.Close()
	// A file known to be too large is refused before a byte is read;
	// devices and pipes are bounded by ReadRecording.
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > netview.MaxRecording {
		return nil, fmt.Errorf("recording %q is %d MiB, more than the %d MiB podlab reads: give a file written by `podlab record`",
			path, fi.Size()>>20, netview.MaxRecording>>20)
	}
	return New(path, f)
}

// New reads a recording from r; name says where it came from.
func New(name string, r io.Reader) (*Lab, error) {
	rec, err := netview.ReadRecording(r)
	if err != nil {
		return nil, fmt.Errorf("recording %q: %w", name, err)
	}
	return &Lab{name: name, rec: rec}, nil
}

// Kind is "recording".
func (r *Lab) Kind() string { return "recording" }

// Describe says what was recorded, where and when.
func (r *Lab) Describe() string {
	d := "recording " + netview.Clean(r.name)
	if r.rec.Lab != "" {
		d += " of a " + r.rec.Lab + " lab"
	}
	if !r.rec.RecordedAt.IsZero() {
		d += ", taken " + r.rec.RecordedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	if r.rec.Note != "" {
		d += " (" + r.rec.Note + ")"
	}
	return d
}

// Recording is the recording itself.
func (r *Lab) Recording() *netview.Recording { return r.rec }

// Collect returns the recorded pair: a fresh copy each time, so that a
// caller may change it freely.
func (r *Lab) Collect(ctx context.Context) (*netview.Pair, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(&r.rec.Pair); err != nil {
		return nil, err
	}
	var p netview.Pair
	if err := json.Unmarshal(buf.Bytes(), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Close does nothing: a recording holds nothing open.
func (r *Lab) Close() error { return nil }
