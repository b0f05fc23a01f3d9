package lab

import (
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzParseRoute: any route message either is refused with an error or
// left out, or gives a route of family 4 or 6 with a valid destination of
// that family; nothing panics.
func FuzzParseRoute(f *testing.F) {
	// 10.64.0.0/26 via 198.51.100.1 dev 2 proto bird, main table.
	f.Add([]byte{2, 26, 0, 0, 254, 12, 0, 1, 0, 0, 0, 0,
		8, 0, 1, 0, 10, 64, 0, 0,
		8, 0, 5, 0, 198, 51, 100, 1,
		8, 0, 4, 0, 2, 0, 0, 0})
	// A multipath route whose first hop is cut short.
	f.Add([]byte{2, 24, 0, 0, 254, 4, 0, 1, 0, 0, 0, 0, 12, 0, 9, 0, 16, 0, 0, 0, 3, 0, 0, 0})
	f.Add([]byte{10, 129, 0, 0, 254, 4, 0, 1, 0, 0, 0, 0, 8, 0, 1, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, m []byte) {
		r, keep, err := parseRoute(m)
		if err != nil || !keep {
			return
		}
		if r.Family != 4 && r.Family != 6 {
			t.Fatalf("family %d", r.Family)
		}
		if !r.Dst.IsValid() {
			t.Fatalf("invalid destination from %x", m)
		}
		if m[1] == 0 && r.Dst.Bits() != 0 {
			t.Fatalf("dst_len 0 gave %s", r.Dst)
		}
	})
}

// FuzzAFSysctls: any IFLA_AF_SPEC gives at most the five settings it
// can carry, and nothing panics.
func FuzzAFSysctls(f *testing.F) {
	conf := make([]byte, 4*26)
	conf[4*2] = 1 // proxy_arp
	spec := append([]byte{byte(8 + 4 + len(conf)), 0, unix.AF_INET, 0, byte(4 + len(conf)), 0, unix.IFLA_INET_CONF, 0}, conf...)
	f.Add(spec)
	f.Add([]byte{8, 0, 2, 0, 4, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if m := afSysctls(b); len(m) > 5 {
			t.Fatalf("%d settings: %v", len(m), m)
		}
	})
}

// FuzzParseAddr: any address message is refused with an error or gives
// an address with a valid prefix; nothing panics.
func FuzzParseAddr(f *testing.F) {
	// 10.7.0.1/24 on link 2, with IFA_LOCAL, a label and cache info.
	f.Add([]byte{2, 24, 0x80, 0, 2, 0, 0, 0,
		8, 0, 1, 0, 10, 7, 0, 1,
		8, 0, 2, 0, 10, 7, 0, 1,
		8, 0, 3, 0, 'v', '0', 0, 0,
		20, 0, 6, 0, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0})
	// A peer: local 10.0.0.1, address 10.0.0.2/32.
	f.Add([]byte{2, 32, 0, 0, 3, 0, 0, 0, 8, 0, 2, 0, 10, 0, 0, 1, 8, 0, 1, 0, 10, 0, 0, 2})
	f.Add([]byte{10, 64, 0, 253, 1, 0, 0, 0, 20, 0, 1, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, m []byte) {
		if len(m) < unix.SizeofIfAddrmsg {
			return
		}
		a, err := parseAddr(m)
		if err != nil {
			return
		}
		x, err := convAddr(a, nil)
		if err != nil {
			return
		}
		if !x.Prefix.IsValid() {
			t.Fatalf("invalid prefix from %x", m)
		}
	})
}
