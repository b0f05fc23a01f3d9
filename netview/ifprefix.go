package netview

import "regexp"

// ifPrefixRE is what an interface prefix may be: the start of a Linux
// interface name (at most 15 bytes) that leaves room for a name after it,
// in the characters Felix's prefixes use.
var ifPrefixRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,13}$`)

// ValidInterfacePrefix says whether s can be Felix's InterfacePrefix (one
// prefix: "cali", "tap").
func ValidInterfacePrefix(s string) bool { return ifPrefixRE.MatchString(s) }
