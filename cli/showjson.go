package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"podlab/netview"
)

// encodeShowJSON writes v as json.Encoder with a two-space indent would,
// byte for byte, but streams the route lists (a node may hold tens of
// thousands) one route at a time instead of building the whole document
// in memory first.
func encodeShowJSON(w io.Writer, v showJSON) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	pod, host, a := v.Pod, v.Host, v.Analysis
	v.Pod.Routes, v.Host.Routes = nil, nil
	var ac netview.Analysis
	if a != nil {
		ac = *a
		ac.Routes = nil
		v.Analysis = &ac
	}
	doc, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	// Each list left out is a key on a line of its own at a known depth;
	// raw newlines occur in indented JSON only between tokens, so these
	// cannot match inside a string.
	rest := doc
	for _, part := range []struct {
		key   string
		depth int
		write func(prefix string) error
	}{
		{`"routes": null`, 2, func(p string) error { return streamList(bw, pod.Routes, p) }},
		{`"routes": null`, 2, func(p string) error { return streamList(bw, host.Routes, p) }},
		{`"routes": null`, 2, func(p string) error {
			if a == nil {
				return nil
			}
			return streamList(bw, a.Routes, p)
		}},
	} {
		prefix := "\n" + indentOf(part.depth)
		i := bytes.Index(rest, []byte(prefix+part.key))
		if i < 0 {
			if a == nil {
				break // "analysis": null has no routes
			}
			return fmt.Errorf("encoding: no %s to stream", part.key)
		}
		cut := i + len(prefix) + len(part.key) - len("null")
		bw.Write(rest[:cut])
		if err := part.write(indentOf(part.depth)); err != nil {
			return err
		}
		rest = rest[cut+len("null"):]
	}
	bw.Write(rest)
	bw.WriteByte('\n')
	return bw.Flush()
}

func indentOf(depth int) string {
	b := make([]byte, 2*depth)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}

// streamList writes list as the indenting encoder writes a slice whose
// key sits at prefix: null, [] or one element a line group.
func streamList[T any](w *bufio.Writer, list []T, prefix string) error {
	switch {
	case list == nil:
		_, err := w.WriteString("null")
		return err
	case len(list) == 0:
		_, err := w.WriteString("[]")
		return err
	}
	w.WriteString("[\n")
	inner := prefix + "  "
	for i := range list {
		b, err := json.MarshalIndent(&list[i], inner, "  ")
		if err != nil {
			return err
		}
		w.WriteString(inner)
		w.Write(b)
		if i < len(list)-1 {
			w.WriteByte(',')
		}
		w.WriteByte('\n')
	}
	_, err := w.WriteString(prefix + "]")
	return err
}
