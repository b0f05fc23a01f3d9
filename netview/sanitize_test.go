package netview

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"podlab/internal/fill"
)

func TestClean(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "cali12345678901", "cali12345678901"},
		{"unicode", "pod-é✓", "pod-é✓"},
		{"esc", "a\x1b[31mb", `a\x1b[31mb`},
		{"bidi override", "cali\u202eoof", `cali\u202eoof`},
		{"bidi isolate", "a\u2067b\u2069", `a\u2067b\u2069`},
		{"osc 52", "\x1b]52;c;aGk=\x07", `\x1b]52;c;aGk=\x07`},
		{"osc 0 st", "\x1b]0;owned\x1b\\", `\x1b]0;owned\x1b\`},
		{"newline tab", "a\nb\tc\r", `a\x0ab\x09c\x0d`},
		{"del", "a\x7f", `a\x7f`},
		{"c1 csi", "a\u009b31m", `a\u009b31m`},
		{"c1 osc", "\u009d8;;http://x\u009c", `\u009d8;;http://x\u009c`},
		{"invalid utf8", "a\xffb\xc2", `a\xffb\xc2`},
		{"raw c1 byte", "\x9b31m", `\x9b31m`},
		{"nul", "a\x00", `a\x00`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clean(tt.in)
			if got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !IsClean(got) {
				t.Errorf("IsClean(Clean(%q)) = false", tt.in)
			}
			if again := Clean(got); again != got {
				t.Errorf("Clean is not idempotent: %q then %q", got, again)
			}
			if IsClean(tt.in) != (tt.in == tt.want) {
				t.Errorf("IsClean(%q) = %v", tt.in, IsClean(tt.in))
			}
		})
	}
}

// hostileText carries the sequences a name must not pass to a terminal.
const hostileText = "x\x1b]52;c;aGk=\x07\x1b]0;t\x1b\\\x1b[31m\x1bP1$r\x1b\\\x1b_a\x1b\\\x1b^p\x1b\\\x1bXs\x1b\\\u009b1m\xff"

var addrType = reflect.TypeFor[netip.Addr]()

// fillStrings sets every string the value can hold, map keys and the
// zones of addresses included, to hostileText text, making slices, maps
// and pointers so that there are some.
func fillStrings(v reflect.Value) {
	if v.Type() == addrType {
		v.Set(reflect.ValueOf(netip.MustParseAddr("fe80::1").WithZone(hostileText)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(hostileText)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillStrings(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillStrings(v.Field(i))
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillStrings(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fillStrings(k)
		e := reflect.New(v.Type().Elem()).Elem()
		fillStrings(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// dirtyStrings lists the paths of the strings in v (addresses' zones
// included) that are not clean.
func dirtyStrings(v reflect.Value, path string, out *[]string) int {
	n := 0
	if v.Type() == addrType {
		if !IsClean(v.Interface().(netip.Addr).Zone()) {
			*out = append(*out, path+"%zone")
		}
		return 1
	}
	switch v.Kind() {
	case reflect.String:
		n++
		if !IsClean(v.String()) {
			*out = append(*out, path)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			n += dirtyStrings(v.Elem(), path, out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				n += dirtyStrings(v.Field(i), path+"."+f.Name, out)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			n += dirtyStrings(v.Index(i), path+"[]", out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			n += dirtyStrings(k, path+"{key}", out)
			n += dirtyStrings(v.MapIndex(k), path+"{}", out)
		}
	}
	return n
}

func TestSanitizeReachesEveryString(t *testing.T) {
	tests := []struct {
		name     string
		v        any
		sanitize func(any)
	}{
		{"recording", &Recording{}, func(v any) { v.(*Recording).Sanitize() }},
		{"pair", &Pair{}, func(v any) { v.(*Pair).Sanitize() }},
		{"snapshot", &Snapshot{}, func(v any) { v.(*Snapshot).Sanitize() }},
		{"route", &Route{}, func(v any) { v.(*Route).Sanitize() }},
		{"facts", &Facts{}, func(v any) { v.(*Facts).Sanitize() }},
		{"extra", &Extra{}, func(v any) { v.(*Extra).Sanitize() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := reflect.ValueOf(tt.v)
			fillStrings(v)
			var before []string
			if n := dirtyStrings(v, tt.name, &before); n == 0 || len(before) != n {
				t.Fatalf("filling made %d of %d strings hostileText", len(before), n)
			}
			tt.sanitize(tt.v)
			var after []string
			n := dirtyStrings(v, tt.name, &after)
			if len(after) > 0 {
				t.Errorf("%d of %d strings still carry control characters: %s", len(after), n, strings.Join(after, ", "))
			}
		})
	}
}

func TestSanitizeKeepsCleanPair(t *testing.T) {
	rec := lessonRecording()
	want := lessonRecording()
	rec.Sanitize()
	if !reflect.DeepEqual(rec, want) {
		t.Fatal("Sanitize changed a recording that had nothing to escape")
	}
}

// fieldCaps is the oracle's own list of the cap of each string field,
// by its type and name: the bytes Linux, Kubernetes or the file system
// allow that kind of text.
var fieldCaps = map[string]int{
	"Recording.Schema": 64, "Recording.Lab": 64, "Recording.Note": 2048,
	"Namespace.Name": 255, "Namespace.Path": 4096, "Namespace.NSIDs": 255,
	"Link.Name": 15, "Link.Kind": 64, "Link.Flags": 64, "Link.Qdisc": 64,
	"Link.OperState": 64, "Link.Group": 64, "Link.LinkType": 64,
	"Link.MAC": 95, "Link.Broadcast": 95,
	"Addr.Dev": 15, "Addr.Scope": 64, "Addr.Label": 15, "Addr.Flags": 64,
	"Route.Type": 64, "Route.Dev": 15, "Route.Scope": 64, "Route.Flags": 64,
	"NextHop.Dev": 15, "NextHop.Flags": 64,
	"Neigh.Dev": 15, "Neigh.MAC": 95, "Neigh.State": 64, "Neigh.Flags": 64,
	"Facts.Node": 253, "Facts.Mode": 64, "Facts.InterfacePrefix": 15,
	"PodFact.Namespace": 63, "PodFact.Name": 253, "PodFact.Node": 253, "PodFact.Phase": 64,
	"NodeFact.Name": 253, "Block.Node": 253,
	// Extra: what a lesson beyond the first reads.
	"Extra.Unread": 2048, "Host1Facts.Imports": 64,
	"BirdProtocol.Name": 64, "BirdProtocol.Proto": 64, "BirdProtocol.Table": 64,
	"BirdProtocol.State": 64, "BirdProtocol.Since": 64, "BirdProtocol.Info": 2048,
	"BirdProtocol.Description": 2048, "BirdBGP.State": 64, "BirdBGP.LastError": 2048,
	"BirdChannel.Name": 64, "BirdChannel.State": 64, "BirdChannel.Table": 64,
	"BirdChannel.ImportFilter": 64, "BirdChannel.ExportFilter": 64,
	"IPPool.Name": 253, "IPPool.IPIPMode": 64, "IPPool.VXLANMode": 64, "IPPool.NodeSelector": 2048,
	"BGPPeer.Name": 253, "BGPPeer.Node": 253, "BGPPeer.NodeSelector": 2048,
	"BGPConfiguration.Name": 253,
	"Service.Namespace":     63, "Service.Name": 253, "Service.Type": 64, "Service.ExternalTrafficPolicy": 64,
	"ServicePort.Name": 64, "ServicePort.Protocol": 64, "ServicePort.TargetPort": 64,
	"EndpointSlice.Namespace": 63, "EndpointSlice.Name": 253, "EndpointSlice.Service": 253,
	"EndpointSlice.AddressType": 64, "Endpoint.Node": 253, "Endpoint.Pod": 253,
	"ResourceGap.Resource": 64, "ResourceGap.Reason": 2048,
	"Table.Mode": 64, "Table.Name": 64, "Chain.Name": 2048, "Chain.Policy": 64,
	"Rule.Target": 2048, "Rule.Text": 2048, "Matches.Comment": 2048, "Match.Value": 2048,
	"Matches.Probability": 2048, "Matches.ToDest": 2048, "Choice.ToDest": 2048, "Choice.Chain": 2048,
	"Map.Name": 2048, "MapElem.Key": 2048, "MapElem.Target": 2048,
}

// Caps of what is not a field of its own: map keys (sysctl names) and
// the zones of addresses (interface names).
const keyCap, zoneCap = 64, 15

// sanitizeByReflection is the oracle of the hand-written Sanitize: it
// cleans every exported string v holds, map keys and addresses' zones
// included, whatever the type, as podlab's sanitiser did before its
// fields were listed (zones apart), and cuts it to its field's cap.
func sanitizeByReflection(v reflect.Value) { sanitizeField(v, -1) }

func sanitizeField(v reflect.Value, max int) {
	if v.Type() == addrType {
		if a := v.Interface().(netip.Addr); a.Zone() != "" && v.CanSet() {
			v.Set(reflect.ValueOf(a.WithZone(Cut(a.Zone(), zoneCap))))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		if max < 0 {
			panic("the oracle has no cap for a string at " + v.Type().String())
		}
		if v.CanSet() {
			v.SetString(Cut(v.String(), max))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			sanitizeField(v.Elem(), max)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			// Unexported fields are netip's and time's own: no text.
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			c, ok := fieldCaps[v.Type().Name()+"."+f.Name]
			if !ok {
				c = -1
			}
			sanitizeField(v.Field(i), c)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			sanitizeField(v.Index(i), max)
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		// Keys that clean to one: the clean key's value, else the value
		// of the key that sorts first.
		ks := v.MapKeys()
		slices.SortFunc(ks, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		out := reflect.MakeMap(v.Type())
		var dirty []reflect.Value
		for _, k := range ks {
			if Cut(k.String(), keyCap) == k.String() {
				out.SetMapIndex(k, v.MapIndex(k))
			} else {
				dirty = append(dirty, k)
			}
		}
		for _, k := range dirty {
			nk := reflect.ValueOf(Cut(k.String(), keyCap)).Convert(k.Type())
			if !out.MapIndex(nk).IsValid() {
				out.SetMapIndex(nk, v.MapIndex(k))
			}
		}
		for _, k := range out.MapKeys() {
			nv := reflect.New(out.Type().Elem()).Elem()
			nv.Set(out.MapIndex(k))
			sanitizeField(nv, max)
			out.SetMapIndex(k, nv)
		}
		v.Set(out)
	}
}

// TestSanitizeAsReflection: on recordings filled at random with clean and
// hostile text, Sanitize does what the walk by reflection does.
func TestSanitizeAsReflection(t *testing.T) {
	texts := []string{"", "cali0", "eth0", "UP", hostileText, "a\x1b", "\xffb\u009b",
		strings.Repeat("n", 5000), "\xff" + strings.Repeat("é", 3000), "x\u009b" + strings.Repeat("\\x41", 2000)}
	for seed := range uint64(200) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			var got, want Recording
			fill.Random(&got, rand.New(rand.NewPCG(seed, 1)), texts)
			fill.Random(&want, rand.New(rand.NewPCG(seed, 1)), texts)
			got.Sanitize()
			sanitizeByReflection(reflect.ValueOf(&want).Elem())
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Sanitize and the reflection walk differ:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// BenchmarkSanitizeScale holds Sanitize against the reflection walk on a
// node's pair (clean, as a lab's output nearly always is).
func BenchmarkSanitizeScale(b *testing.B) {
	for _, n := range scales {
		p := scalePair(b, n)
		b.Run(fmt.Sprintf("fields/routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Sanitize()
			}
		})
		b.Run(fmt.Sprintf("reflection/routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sanitizeByReflection(reflect.ValueOf(p).Elem())
			}
		})
	}
}
