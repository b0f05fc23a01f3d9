package netview

import (
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// A node's snapshot holds tens of thousands of routes, and encoding/json
// spends most of `podlab show --json` on it: reflection per field, then a
// second pass to indent the whole document. JSONWriter writes the model by
// hand instead, indented as it goes, streaming to its writer.
//
// Its output is encoding/json's, byte for byte: what
// json.MarshalIndent(v, "", "  ") makes of the same values, with the same
// string escaping (HTML characters, U+2028 and U+2029, invalid UTF-8 as
// U+FFFD), the same omitempty and omitzero rules and map keys sorted as
// strings. The field lists, one per type, are in jsonfields.go.

// jsonFlushAt is how much the writer buffers before it writes out.
const jsonFlushAt = 64 << 10

// JSONWriter writes one JSON document, indented by two spaces per level,
// to an io.Writer. The first error (from the writer, or a value
// encoding/json would refuse) stops its output, though what it streamed
// before stays written; End reports it.
type JSONWriter struct {
	w     io.Writer
	b     []byte
	depth int
	// empty: the innermost object or array has no member yet.
	empty bool
	err   error
	keys  []string // scratch for sorting map keys
}

// NewJSONWriter returns a writer of one document to w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	return &JSONWriter{w: w, b: make([]byte, 0, jsonFlushAt+4096)}
}

// End ends the document with a newline, as json.Encoder does, and writes
// out what is buffered.
func (j *JSONWriter) End() error {
	j.b = append(j.b, '\n')
	j.flush()
	return j.err
}

// spill writes out the buffer once it is full enough; the lists call it
// between elements.
func (j *JSONWriter) spill() {
	if len(j.b) >= jsonFlushAt {
		j.flush()
	}
}

func (j *JSONWriter) flush() {
	if j.err == nil && len(j.b) > 0 {
		_, j.err = j.w.Write(j.b)
	}
	j.b = j.b[:0]
}

func (j *JSONWriter) fail(err error) {
	if j.err == nil {
		j.err = err
	}
}

// indent is a newline and the indent of the deepest level the model
// reaches, and more.
const indent = "\n                                "

func (j *JSONWriter) newline() {
	if n := 1 + 2*j.depth; n <= len(indent) {
		j.b = append(j.b, indent[:n]...)
		return
	}
	j.b = append(j.b, '\n')
	for range j.depth {
		j.b = append(j.b, ' ', ' ')
	}
}

// BeginObject starts an object where a value goes.
func (j *JSONWriter) BeginObject() { j.open('{') }

// EndObject ends the innermost object.
func (j *JSONWriter) EndObject() { j.close('}') }

func (j *JSONWriter) open(c byte) {
	j.b = append(j.b, c)
	j.depth++
	j.empty = true
}

// close writes an empty object or array as {} or [], as
// json.MarshalIndent does.
func (j *JSONWriter) close(c byte) {
	j.depth--
	if !j.empty {
		j.newline()
	}
	j.b = append(j.b, c)
	j.empty = false
}

// Key starts a member of the innermost object; its value follows.
func (j *JSONWriter) Key(name string) {
	j.elem()
	j.b = appendJSONString(j.b, name)
	j.b = append(j.b, ':', ' ')
}

// key is Key for the names written here, which need no escaping.
func (j *JSONWriter) key(name string) {
	j.elem()
	j.b = append(j.b, '"')
	j.b = append(j.b, name...)
	j.b = append(j.b, '"', ':', ' ')
}

// elem starts an element of the innermost object or array.
func (j *JSONWriter) elem() {
	if !j.empty {
		j.b = append(j.b, ',')
	}
	j.empty = false
	j.newline()
}

// String writes s as a JSON string.
func (j *JSONWriter) String(s string) { j.b = appendJSONString(j.b, s) }

// Null writes null.
func (j *JSONWriter) Null() { j.b = append(j.b, "null"...) }

func (j *JSONWriter) int(v int)     { j.b = strconv.AppendInt(j.b, int64(v), 10) }
func (j *JSONWriter) uint(v uint64) { j.b = strconv.AppendUint(j.b, v, 10) }

func (j *JSONWriter) bool(v bool) { j.b = strconv.AppendBool(j.b, v) }

// addr and prefix write their text form as a string, as encoding/json
// does with their MarshalText (the zero value is ""); a zone is outside
// text and is escaped like any other.
func (j *JSONWriter) addr(a netip.Addr) {
	j.b = append(j.b, '"')
	n := len(j.b)
	j.b = a.AppendTo(j.b)
	j.endText(n)
}

func (j *JSONWriter) prefix(p netip.Prefix) {
	j.b = append(j.b, '"')
	n := len(j.b)
	j.b = p.AppendTo(j.b)
	j.endText(n)
}

// endText closes the string whose text was appended from j.b[n:],
// escaping it if it needs to be.
func (j *JSONWriter) endText(n int) {
	if !jsonPlain(j.b[n:]) {
		t := string(j.b[n:])
		j.b = appendJSONString(j.b[:n-1], t)
		return
	}
	j.b = append(j.b, '"')
}

func (j *JSONWriter) time(t time.Time) {
	b, err := t.MarshalJSON()
	if err != nil {
		j.fail(err)
	}
	j.b = append(j.b, b...)
}

// Lists and maps.

func (j *JSONWriter) strings(list []string) {
	if list == nil {
		j.Null()
		return
	}
	j.open('[')
	for _, s := range list {
		j.elem()
		j.String(s)
	}
	j.close(']')
}

// list writes a slice as encoding/json does (nil is null), spilling the
// buffer between elements.
func list[T any](j *JSONWriter, l []T, write func(*JSONWriter, *T)) {
	if l == nil {
		j.Null()
		return
	}
	j.open('[')
	for i := range l {
		j.elem()
		write(j, &l[i])
		j.spill()
	}
	j.close(']')
}

func (j *JSONWriter) intMap(m map[string]int) {
	if m == nil {
		j.Null()
		return
	}
	j.keys = j.keys[:0]
	for k := range m {
		j.keys = append(j.keys, k)
	}
	slices.Sort(j.keys)
	j.open('{')
	for _, k := range j.keys {
		j.Key(k) // outside text
		j.int(m[k])
	}
	j.close('}')
}

// nsidMap sorts its keys as encoding/json sorts integer keys: by their
// decimal text, so "10" comes before "2".
func (j *JSONWriter) nsidMap(m map[int]string) {
	if m == nil {
		j.Null()
		return
	}
	j.keys = j.keys[:0]
	for k := range m {
		j.keys = append(j.keys, strconv.Itoa(k))
	}
	slices.Sort(j.keys)
	j.open('{')
	for _, k := range j.keys {
		n, _ := strconv.Atoi(k)
		j.key(k) // digits
		j.String(m[n])
	}
	j.close('}')
}

// Members, by the rule of their json tag.

func (j *JSONWriter) stringKey(k, v string) {
	j.key(k)
	j.String(v)
}

func (j *JSONWriter) stringKeyOmitEmpty(k, v string) {
	if v != "" {
		j.stringKey(k, v)
	}
}

func (j *JSONWriter) intKey(k string, v int) {
	j.key(k)
	j.int(v)
}

func (j *JSONWriter) intKeyOmitEmpty(k string, v int) {
	if v != 0 {
		j.intKey(k, v)
	}
}

func (j *JSONWriter) boolKey(k string, v bool) {
	j.key(k)
	j.bool(v)
}

func (j *JSONWriter) addrKey(k string, a netip.Addr) {
	j.key(k)
	j.addr(a)
}

func (j *JSONWriter) addrKeyOmitZero(k string, a netip.Addr) {
	if a != (netip.Addr{}) {
		j.addrKey(k, a)
	}
}

func (j *JSONWriter) prefixKey(k string, p netip.Prefix) {
	j.key(k)
	j.prefix(p)
}

func (j *JSONWriter) prefixKeyOmitZero(k string, p netip.Prefix) {
	if p != (netip.Prefix{}) {
		j.prefixKey(k, p)
	}
}

func (j *JSONWriter) stringsKeyOmitEmpty(k string, l []string) {
	if len(l) > 0 {
		j.key(k)
		j.strings(l)
	}
}

func (j *JSONWriter) intMapKeyOmitEmpty(k string, m map[string]int) {
	if len(m) > 0 {
		j.key(k)
		j.intMap(m)
	}
}

// Strings, escaped as encoding/json escapes them.

// jsonSafe marks the bytes a JSON string holds as they are: printable
// ASCII but for the quote, the backslash and the three characters
// encoding/json escapes for HTML. DEL is among them; bytes of UTF-8
// sequences are not (they are checked a rune at a time).
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

func jsonPlain[S string | []byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if !jsonSafe[s[i]] {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted and escaped as encoding/json does by
// default: \" \\ \b \f \n \r \t, other control characters and < > & as
// \u00XX, U+2028 and U+2029 as \u2028 and \u2029, and each byte that is
// not UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	if jsonPlain(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	done := 0 // s[:done] is written
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[done:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[done:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[done:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	b = append(b, s[done:]...)
	return append(b, '"')
}
