package netview

import (
	"net/url"
	"strings"
)

// RedactURL is a URL with its password, if any, hidden (url.URL's
// Redacted): for every URL podlab prints. What Go does not parse as a URL
// (no scheme, a bad port) has the password of a user:password@ in its
// host part hidden the same way.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	// Not a URL Go parses (no scheme, a bad port): cut user:password@.
	rest, scheme := raw, ""
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	host, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndex(host, "@"); i >= 0 {
		user := host[:i]
		if j := strings.IndexByte(user, ':'); j >= 0 {
			user = user[:j] + ":xxxxx"
		}
		host = user + "@" + host[i+1:]
	}
	return scheme + host + path
}
