package cli

import (
	"io"

	"podlab/netview"
)

// encodeShowJSON writes v as json.Encoder with a two-space indent would,
// byte for byte, but by hand (netview.JSONWriter) and streaming: a node
// may hold tens of thousands of routes, and reflection and a separate
// indent pass over them cost most of the command's time.
func encodeShowJSON(w io.Writer, v showJSON) error { return encodeShowJSONLate(w, v, nil) }

// encodeShowJSONLate is encodeShowJSON where v's Analysis, when nil, comes
// from analysis once the rest is written.
func encodeShowJSONLate(w io.Writer, v showJSON, analysis func() *netview.Analysis) error {
	j := netview.NewJSONWriter(w)
	j.BeginObject()
	j.Key("schema")
	j.String(v.Schema)
	j.Key("lab")
	j.String(v.Lab)
	j.Key("describe")
	j.String(v.Describe)
	j.Key("pod")
	j.Snapshot(&v.Pod)
	j.Key("host")
	j.Snapshot(&v.Host)
	j.Key("facts")
	j.Facts(&v.Facts)
	j.Key("analysis")
	if v.Analysis == nil && analysis != nil {
		v.Analysis = analysis()
	}
	j.Analysis(v.Analysis)
	j.EndObject()
	return j.End()
}
