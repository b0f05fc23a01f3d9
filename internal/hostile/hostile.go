// Package hostile holds the terminal attacks podlab's tests put in names,
// and the check that printed or rendered output carries none of them.
package hostile

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Text is what a hostile name carries: OSC 52 (clipboard), OSC 0
// (title), OSC 8 (hyperlink), CSI that clears and colours, DCS, APC, PM,
// SOS, their C1 forms, BEL, DEL and NUL.
const Text = "\x1b]52;c;cG9kbGFi\x07\x1b]0;owned\x1b\\\x1b]8;;http://x.invalid\x1b\\ln\x1b]8;;\x1b\\" +
	"\x1b[2J\x1b[H\x1b[31m\x1bP1$r\x1b\\\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\" +
	"\u009b2J\u009d0;c1\u009c\u0090dcs\u009c\x07\x7f\x00"

// Taint appends Text to every exported string v points to, map keys
// included, so that names that matched still match.
func Taint(v any) { taint(reflect.ValueOf(v)) }

func taint(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(v.String() + Text)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			taint(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				taint(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			taint(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			taint(e)
			nk := reflect.New(k.Type()).Elem()
			nk.Set(k)
			taint(nk)
			m.SetMapIndex(nk, e)
		}
		v.Set(m)
	}
}

var addrType = reflect.TypeFor[netip.Addr]()

// sgr is the one escape sequence a styled view may carry: colours and
// attributes, which lipgloss writes itself.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// Check says what in out could act on a terminal: with styled, SGR
// sequences are allowed; anything else that is a control character
// (newlines and tabs apart) is reported with its offset.
func Check(out string, styled bool) error {
	if styled {
		out = sgr.ReplaceAllString(out, "")
	}
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRuneInString(out[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return fmt.Errorf("byte %#x at %d is not UTF-8 (%q)", out[i], i, around(out, i))
		case r == '\n' || r == '\t':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f:
			return fmt.Errorf("control character %U at %d (%q)", r, i, around(out, i))
		}
		i += size
	}
	return nil
}

func around(s string, i int) string {
	return s[max(0, i-20):min(len(s), i+40)]
}

// Unclean lists the paths of the exported strings in v (map keys and the
// zones of IPv6 addresses included) that carry a control character.
func Unclean(v any) []string {
	var out []string
	unclean(reflect.ValueOf(v), "", &out)
	return out
}

func unclean(v reflect.Value, path string, out *[]string) {
	if v.Type() == addrType {
		if z := v.Interface().(netip.Addr).Zone(); Check(z, false) != nil || strings.ContainsAny(z, "\n\t") {
			*out = append(*out, path+"%zone")
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		if Check(v.String(), false) != nil || strings.ContainsAny(v.String(), "\n\t") {
			*out = append(*out, path)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			unclean(v.Elem(), path, out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				unclean(v.Field(i), path+"."+f.Name, out)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			unclean(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			unclean(k, path+"{key}", out)
			unclean(v.MapIndex(k), fmt.Sprintf("%s{%v}", path, k), out)
		}
	}
}
