package netview

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxRecording is the most ReadRecording reads: a recording of a busy
// node is a few MiB, and a device or a stray file must not fill memory.
const MaxRecording = 64 << 20

// ReadRecording reads a recording and refuses what this podlab cannot
// show faithfully: another schema, broken JSON, a missing side, more
// than MaxRecording bytes. Its strings come back sanitised.
func ReadRecording(r io.Reader) (*Recording, error) {
	data, err := readBounded(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("recording is empty: record one with `podlab record`")
	}
	// Look at the schema first, so a future format is refused for what it
	// is rather than for a field this version cannot decode.
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(data, err)
	}
	if head.Schema == nil {
		return nil, errors.New("not a podlab recording (it has no schema field): record one with `podlab record`")
	}
	if *head.Schema != Schema {
		return nil, fmt.Errorf("recording schema %q is not supported (this podlab reads %s): re-record it with this version", *head.Schema, Schema)
	}
	var rec Recording
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, jsonError(data, err)
	}
	if err := absentNetNSIDs(data, &rec); err != nil {
		return nil, jsonError(data, err)
	}
	switch {
	case len(rec.Pod.Links) == 0 && len(rec.Host.Links) == 0:
		return nil, errors.New("recording has neither a pod nor a host snapshot: re-record it")
	case len(rec.Pod.Links) == 0:
		return nil, errors.New("recording has no pod snapshot (no links in \"pod\"): re-record it")
	case len(rec.Host.Links) == 0:
		return nil, errors.New("recording has no host snapshot (no links in \"host\"): re-record it")
	}
	rec.Sanitize()
	return &rec, nil
}

// readBounded reads at most MaxRecording bytes, and stops at the first
// byte that cannot begin a JSON object, so that /dev/zero or a binary
// file is refused at once rather than after MaxRecording bytes.
func readBounded(r io.Reader) ([]byte, error) {
	lr := io.LimitReader(r, MaxRecording+1)
	// Chunks joined once at the end: growing one buffer would hold twice
	// the limit while a too-large stream is read.
	var chunks [][]byte
	total, started := 0, false
	for size := 64 << 10; ; size = min(2*size, 4<<20) {
		c := make([]byte, size)
		n, err := io.ReadFull(lr, c)
		c = c[:n]
		if !started {
			if k := bytes.IndexFunc(c, func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); k >= 0 {
				if c[k] != '{' {
					return nil, fmt.Errorf("not a podlab recording (byte %d is %q, not the start of a JSON object): record one with `podlab record`", total+k, c[k])
				}
				started = true
			}
		}
		chunks = append(chunks, c)
		total += n
		if total > MaxRecording {
			return nil, tooLarge()
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading recording: %w", err)
		}
	}
	return bytes.Join(chunks, nil), nil
}

func tooLarge() error {
	return fmt.Errorf("recording is larger than %d MiB, the most podlab reads: give a file written by `podlab record`", MaxRecording>>20)
}

// jsonError says where in the file decoding failed.
func jsonError(data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 {
		return fmt.Errorf("recording is not valid: %w", err)
	}
	line, col := lineCol(data, off)
	return fmt.Errorf("recording is not valid JSON at line %d, column %d (offset %d): %w", line, col, off, err)
}

func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}

// WriteRecording writes rec as indented JSON, stamping the schema if it
// is unset.
func WriteRecording(w io.Writer, rec *Recording) error {
	if rec == nil {
		return errors.New("no recording to write")
	}
	out := *rec
	if out.Schema == "" {
		out.Schema = Schema
	}
	data, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding recording: %w", err)
	}
	data = append(data, '\n')
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("writing recording: %w", err)
	}
	return nil
}

// absentNetNSIDs sets link_netnsid to -1 (no peer namespace) on links
// that do not carry it: decoded as zero they would claim nsid 0.
func absentNetNSIDs(data []byte, rec *Recording) error {
	var raw struct {
		Pod, Host struct {
			Links []map[string]json.RawMessage `json:"links"`
		}
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	fix := func(links []Link, rawLinks []map[string]json.RawMessage) {
		for i := range rawLinks {
			if _, ok := rawLinks[i]["link_netnsid"]; !ok && i < len(links) {
				links[i].LinkNetNSID = -1
			}
		}
	}
	fix(rec.Pod.Links, raw.Pod.Links)
	fix(rec.Host.Links, raw.Host.Links)
	return nil
}
