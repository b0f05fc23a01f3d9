package fill

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Name string
	N    uint32
}

type sample struct {
	S     string
	I     int
	B     bool
	U     uint64
	Addr  netip.Addr
	Pfx   netip.Prefix
	T     time.Time
	List  []inner
	Map   map[int]string
	Ptr   *inner
	Words []string
}

// zeros lists the paths of the zero values in v.
func zeros(v reflect.Value, path string, out *[]string) {
	if v.IsZero() {
		*out = append(*out, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		zeros(v.Elem(), path, out)
	case reflect.Struct:
		if v.Type().PkgPath() != "podlab/internal/fill" {
			return // netip's and time's: not zero is enough
		}
		for i := range v.NumField() {
			zeros(v.Field(i), path+"."+v.Type().Field(i).Name, out)
		}
	case reflect.Slice:
		for i := range v.Len() {
			zeros(v.Index(i), path+"[]", out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			zeros(k, path+"{key}", out)
			zeros(v.MapIndex(k), path+"{}", out)
		}
	}
}

func TestEverySetsEveryField(t *testing.T) {
	var s sample
	Every(&s, "x")
	var z []string
	zeros(reflect.ValueOf(s), "sample", &z)
	if len(z) > 0 {
		t.Fatalf("left zero: %v", z)
	}
	if len(s.List) != 2 || len(s.Map) != 2 {
		t.Fatalf("%d list elements, %d map entries; want 2 each", len(s.List), len(s.Map))
	}
	if !strings.HasPrefix(s.S, "x") || s.S == s.List[0].Name {
		t.Fatalf("strings %q and %q: want the text, each with its own number", s.S, s.List[0].Name)
	}
	if !s.Pfx.IsValid() || !s.Addr.IsValid() {
		t.Fatalf("address %v, prefix %v: want valid ones", s.Addr, s.Pfx)
	}
}

func TestEveryRefusesWhatItCannotSet(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"float", &struct{ F float64 }{}},
		{"unexported field", &struct {
			A string
			b int
		}{}},
		{"interface", &struct{ X any }{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic: a field fill has no rule for was left as it was")
				}
			}()
			Every(tt.v, "x")
		})
	}
}

func TestRandomFollowsItsSource(t *testing.T) {
	var a, b, c sample
	Random(&a, rand.New(rand.NewPCG(7, 7)), []string{"p", "q"})
	Random(&b, rand.New(rand.NewPCG(7, 7)), []string{"p", "q"})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same source filled two values differently")
	}
	differ := false
	for seed := range uint64(20) {
		Random(&c, rand.New(rand.NewPCG(seed, 1)), []string{"p", "q"})
		differ = differ || !reflect.DeepEqual(a, c)
	}
	if !differ {
		t.Fatal("twenty sources filled the same value")
	}
}
