package netview

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Clean makes text from outside safe to print: C0 controls, DEL, C1
// controls (U+0080-U+009F) and bytes that are not UTF-8 are shown as
// escapes (`\x1b`, `\u009b`), so that a name cannot move the cursor, set
// a title, write the clipboard or open a hyperlink. Clean(Clean(s)) is
// Clean(s): the escapes are printable.
func Clean(s string) string {
	if IsClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// IsClean reports whether s holds nothing Clean would escape.
func IsClean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || r >= 0x80 && r <= 0x9f {
			return false
		}
		i += size
	}
	return true
}

// Sanitize cleans every string in the pair (names, kinds, flags, facts,
// map keys): every lab calls it on what it produces, before anything is
// rendered. It walks the fields by reflection so that a field added
// later cannot be left out.
func (p *Pair) Sanitize() { sanitizeValue(reflect.ValueOf(p).Elem()) }

// Sanitize cleans every string in the snapshot.
func (s *Snapshot) Sanitize() { sanitizeValue(reflect.ValueOf(s).Elem()) }

// Sanitize cleans every string in the recording, its note included.
func (r *Recording) Sanitize() { sanitizeValue(reflect.ValueOf(r).Elem()) }

// Sanitize cleans every string in the facts.
func (f *Facts) Sanitize() { sanitizeValue(reflect.ValueOf(f).Elem()) }

// Sanitize cleans every string in the route.
func (r *Route) Sanitize() { sanitizeValue(reflect.ValueOf(r).Elem()) }

func sanitizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() && !IsClean(v.String()) {
			v.SetString(Clean(v.String()))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			sanitizeValue(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			// Unexported fields are netip's and time's own: no text.
			if v.Type().Field(i).IsExported() {
				sanitizeValue(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			sanitizeValue(v.Index(i))
		}
	case reflect.Map:
		sanitizeMap(v)
	}
}

// sanitizeMap cleans keys and values; map elements are not addressable,
// so each is copied, cleaned and stored back.
func sanitizeMap(v reflect.Value) {
	if v.IsNil() {
		return
	}
	for _, k := range v.MapKeys() {
		val := v.MapIndex(k)
		nv := reflect.New(val.Type()).Elem()
		nv.Set(val)
		sanitizeValue(nv)
		nk := k
		if k.Kind() == reflect.String && !IsClean(k.String()) {
			nk = reflect.ValueOf(Clean(k.String())).Convert(k.Type())
			v.SetMapIndex(k, reflect.Value{})
		}
		v.SetMapIndex(nk, nv)
	}
}
