// Package fill sets every exported field of a value by reflection, for
// the tests that hold a hand-written field list (podlab's JSON writer, its
// sanitiser) against the types: a field added later is set here too, so
// a list that leaves it out fails its test. A field of a kind fill has no
// rule for panics, for the same reason.
package fill

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strconv"
	"time"
)

var (
	addrType   = reflect.TypeFor[netip.Addr]()
	prefixType = reflect.TypeFor[netip.Prefix]()
	timeType   = reflect.TypeFor[time.Time]()
)

// Every sets every field v points to: each string to text and a number
// (so that two fields never hold the same), each number to one that no
// other field holds, bools to true, slices and maps to two elements each,
// addresses and prefixes to valid ones (IPv6 ones carry text as their
// zone), times to a valid instant.
func Every(v any, text string) {
	f := &filler{text: text}
	f.set(reflect.ValueOf(v).Elem())
}

// Random sets each field v points to at random, from r: zero, empty or
// nil as often as set, strings from texts (with a number appended, or
// not), numbers small, negative or large.
func Random(v any, r *rand.Rand, texts []string) {
	f := &filler{r: r, texts: texts}
	f.set(reflect.ValueOf(v).Elem())
}

type filler struct {
	n     int
	text  string
	r     *rand.Rand // nil for Every
	texts []string
}

func (f *filler) next() int {
	f.n++
	return f.n
}

// zero: Random leaves this value zero.
func (f *filler) zero() bool { return f.r != nil && f.r.IntN(3) == 0 }

func (f *filler) str() string {
	if f.r == nil {
		return f.text + strconv.Itoa(f.next())
	}
	s := ""
	if len(f.texts) > 0 {
		s = f.texts[f.r.IntN(len(f.texts))]
	}
	if f.r.IntN(2) == 0 {
		s += strconv.Itoa(f.r.IntN(20))
	}
	return s
}

func (f *filler) integer(bits int) int64 {
	if f.r == nil {
		return int64(f.next())
	}
	switch f.r.IntN(4) {
	case 0:
		return -f.r.Int64N(1 << (bits - 2))
	case 1:
		return f.r.Int64N(1<<(bits-1) - 1)
	}
	return f.r.Int64N(20)
}

func (f *filler) length() int {
	if f.r == nil {
		return 2
	}
	return f.r.IntN(4)
}

func (f *filler) addr() netip.Addr {
	n := f.next()
	if f.r != nil {
		n = f.r.IntN(1 << 16)
	}
	if f.r == nil || f.r.IntN(2) == 0 {
		return netip.AddrFrom4([4]byte{10, byte(n >> 8), byte(n), 1})
	}
	a := netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 14: byte(n >> 8), 15: byte(n)})
	if z := f.str(); z != "" {
		a = a.WithZone(z)
	}
	return a
}

// indexes are unexported fields that only index the exported ones, and
// that their type builds for itself when absent: left zero.
var indexes = map[string]bool{"kubeproxy.Table.byName": true}

func (f *filler) fill(v reflect.Value) {
	if f.zero() {
		v.SetZero()
		return
	}
	f.set(v)
}

// set gives v a value that is not zero (though its fields may be).
func (f *filler) set(v reflect.Value) {
	switch v.Type() {
	case addrType:
		v.Set(reflect.ValueOf(f.addr()))
		return
	case prefixType:
		a := f.addr().WithZone("")
		bits := 24
		if a.Is6() {
			bits = 64
		}
		if f.r != nil {
			// Now and then a length the address cannot have: an invalid
			// prefix, which still has a text.
			bits = f.r.IntN(a.BitLen() + 2)
		}
		v.Set(reflect.ValueOf(netip.PrefixFrom(a, bits)))
		return
	case timeType:
		t := time.Date(2025, 3, 1, 12, 0, f.next(), 123456789, time.UTC)
		if f.r != nil {
			t = time.Unix(f.r.Int64N(1<<36), f.r.Int64N(1e9)).In(time.FixedZone("", 60*(f.r.IntN(48)-24)*30))
			if f.r.IntN(50) == 0 {
				t = t.AddDate(10000, 0, 0) // beyond what JSON's RFC 3339 can say
			}
		}
		v.Set(reflect.ValueOf(t))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(true)
		if f.r != nil {
			v.SetBool(f.r.IntN(2) == 0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(f.integer(v.Type().Bits()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.integer(v.Type().Bits())) & (1<<v.Type().Bits() - 1))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem())
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				if indexes[v.Type().String()+"."+v.Type().Field(i).Name] {
					continue
				}
				panic(fmt.Sprintf("fill: %s has an unexported field %s: give its type a rule", v.Type(), v.Type().Field(i).Name))
			}
			f.fill(v.Field(i))
		}
	case reflect.Slice:
		n := f.length()
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		n := f.length()
		m := reflect.MakeMapWithSize(v.Type(), n)
		for range n {
			k := reflect.New(v.Type().Key()).Elem()
			f.fill(k)
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	default:
		panic(fmt.Sprintf("fill: no rule for a %s (%s)", v.Kind(), v.Type()))
	}
}
