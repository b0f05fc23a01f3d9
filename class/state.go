package class

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"podlab/progress"
	"podlab/sudo"
)

// A presenter keeps its class (the token, the step shown and the roster's
// names) in a file of its state directory, so that a restart, a laptop
// that slept or a closed terminal resumes the class instead of locking
// the students out and sending them back to the first step.

// stateVersion is the class file's format; another one is refused.
const stateVersion = 1

// maxStateBytes bounds a class file: 256 names take some 30 KiB.
const maxStateBytes = 64 << 10

// Saved is a kept class.
type Saved struct {
	Version int `json:"version"`
	// Serve is the --serve address: another address is another class.
	Serve string `json:"serve"`
	// Pack is the class's lesson pack, "name@version"; none for the
	// built-in lesson. Another pack is another class.
	Pack  string    `json:"pack,omitempty"`
	Token string    `json:"token"`
	Pos   Position  `json:"position"`
	Names []Binding `json:"names,omitempty"`
	At    time.Time `json:"at"`
}

// Store is the class file and whose rights it is read and written with.
type Store struct {
	Path string
	// As is the user who ran podlab under sudo; nil is the process's
	// own rights.
	As *sudo.User
}

// ErrCorruptState marks a class file that cannot be read as one.
var ErrCorruptState = errors.New("not a podlab class file")

// Load reads the kept class: nil without one.
func (st Store) Load() (*Saved, error) {
	var data []byte
	err := st.As.Do(func() error {
		var err error
		data, err = progress.ReadBounded(st.Path, maxStateBytes)
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeState(st.Path, data)
}

func decodeState(path string, data []byte) (*Saved, error) {
	if len(data) > maxStateBytes {
		return nil, fmt.Errorf("%s: %w (larger than %d KiB)", path, ErrCorruptState, maxStateBytes>>10)
	}
	var s Saved
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, ErrCorruptState)
	}
	switch {
	case s.Version != stateVersion:
		return nil, fmt.Errorf("%s: %w (version %d, this podlab reads %d)", path, ErrCorruptState, s.Version, stateVersion)
	case s.Token == "" || len(s.Token) > 256 || CleanName(s.Token) != s.Token:
		return nil, fmt.Errorf("%s: %w (no usable token)", path, ErrCorruptState)
	case len(s.Pack) > 256:
		return nil, fmt.Errorf("%s: %w (a pack name of %d bytes)", path, ErrCorruptState, len(s.Pack))
	case len(s.Names) > MaxStudents:
		return nil, fmt.Errorf("%s: %w (more than %d names)", path, ErrCorruptState, MaxStudents)
	}
	return &s, nil
}

// Save writes the class atomically, mode 0600 (it holds the token), in a
// directory made 0700 when missing; under sudo as the invoking user.
func (st Store) Save(s Saved) error {
	s.Version = stateVersion
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return st.As.Do(func() error { return progress.WriteFile(st.Path, append(data, '\n'), 0o700, 0o600) })
}
