// Package packs holds the lesson packs built into podlab: one directory
// per pack, a pack.yaml and one markdown file per section (see
// docs/packs.md). They are data, embedded at build and loaded by content.
package packs

import "embed"

// FS holds every built-in pack, each in its own directory.
//
//go:embed */pack.yaml */*.md
var FS embed.FS
