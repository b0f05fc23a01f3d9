// Package progress keeps a self-paced student's progress through the
// lesson: which steps are done, how many answers each took, and where
// they left off. Steps are named by their IDs ("2.4"). The pure part
// (Progress and its methods) is what the UI works with; Load, Save and
// DefaultPath are the file around it.
package progress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// Version is the file format's version; another one is refused.
const Version = 1

// Progress is where a student is in the lesson.
type Progress struct {
	// Last is the step they were at, e.g. "3.2"; "" before they start.
	Last  string          `json:"last,omitempty"`
	Steps map[string]Step `json:"steps,omitempty"`
}

// Step is the progress at one step.
type Step struct {
	Done bool `json:"done,omitempty"`
	// Answers counts the answers given to the step's question, right or
	// wrong.
	Answers int `json:"answers,omitempty"`
}

// file is the JSON form, versioned.
type file struct {
	Version int `json:"version"`
	Progress
}

// Clone is a copy that shares nothing with p, for a save running beside
// further changes.
func (p *Progress) Clone() *Progress {
	if p == nil {
		return &Progress{}
	}
	return &Progress{Last: p.Last, Steps: maps.Clone(p.Steps)}
}

// Done says whether the step is done.
func (p *Progress) Done(id string) bool { return p != nil && p.Steps[id].Done }

// Answers is how many answers the step's question has had.
func (p *Progress) Answers(id string) int {
	if p == nil {
		return 0
	}
	return p.Steps[id].Answers
}

// Count is how many of the given steps are done.
func (p *Progress) Count(ids []string) int {
	n := 0
	for _, id := range ids {
		if p.Done(id) {
			n++
		}
	}
	return n
}

// Empty says whether nothing has been recorded yet.
func (p *Progress) Empty() bool { return p == nil || p.Last == "" && len(p.Steps) == 0 }

// Visit records the step as the last one seen; done marks it done too.
// It reports whether anything changed.
func (p *Progress) Visit(id string, done bool) bool {
	changed := p.Last != id
	p.Last = id
	if done && !p.Steps[id].Done {
		p.set(id, func(s *Step) { s.Done = true })
		changed = true
	}
	return changed
}

// Answer records one answer to the step's question, and the step done
// when it was right.
func (p *Progress) Answer(id string, right bool) {
	p.set(id, func(s *Step) {
		s.Answers++
		s.Done = s.Done || right
	})
}

func (p *Progress) set(id string, f func(*Step)) {
	if p.Steps == nil {
		p.Steps = map[string]Step{}
	}
	s := p.Steps[id]
	f(&s)
	p.Steps[id] = s
}

// ErrCorrupt marks a progress file that cannot be read as one.
var ErrCorrupt = errors.New("not a podlab progress file")

// Load reads the progress kept at path. A missing file is a fresh start;
// a file that is not progress is an error wrapping ErrCorrupt.
func Load(path string) (*Progress, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Progress{}, nil
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w (%v)", path, ErrCorrupt, err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("%s: %w (version %d, this podlab reads %d)", path, ErrCorrupt, f.Version, Version)
	}
	return &f.Progress, nil
}

// Owner is who a saved file belongs to; -1 leaves that id as it comes.
type Owner struct{ UID, GID int }

// NoOwner keeps whatever owner the process gives a file.
var NoOwner = Owner{-1, -1}

// Save writes the progress to path, atomically (a temporary file renamed
// over it), mode 0644, making missing directories 0755.
func (p *Progress) Save(path string) error { return p.SaveAs(path, NoOwner) }

// SaveAs is Save, with the file and the directories it makes given to o
// (the student who ran podlab under sudo).
func (p *Progress) SaveAs(path string, o Owner) error {
	data, err := json.MarshalIndent(file{Version: Version, Progress: *p.Clone()}, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := mkdirAs(dir, o); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if o != NoOwner {
		if err := tmp.Chown(o.UID, o.GID); err != nil {
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	ok = true
	return nil
}

// mkdirAs makes dir and its missing parents 0755, each given to o.
func mkdirAs(dir string, o Owner) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAs(parent, o); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if o != NoOwner {
		return os.Chown(dir, o.UID, o.GID)
	}
	return nil
}

// DefaultPath is where progress is kept: $XDG_STATE_HOME/podlab/progress.json,
// else ~/.local/state/podlab/progress.json. Under sudo it is the invoking
// student's, in SUDO_USER's home whatever HOME says (save it as
// SudoOwner).
func DefaultPath() (string, error) {
	return defaultPath(os.Getenv, os.Geteuid(), user.Lookup)
}

func defaultPath(getenv func(string) string, euid int, lookup func(string) (*user.User, error)) (string, error) {
	const rel = "podlab/progress.json"
	if name := getenv("SUDO_USER"); euid == 0 && name != "" && name != "root" {
		u, err := lookup(name)
		if err != nil {
			return "", fmt.Errorf("finding SUDO_USER %s's home for the progress file: %w (use --progress FILE)", name, err)
		}
		if u.HomeDir == "" {
			return "", fmt.Errorf("SUDO_USER %s has no home for the progress file (use --progress FILE)", name)
		}
		return filepath.Join(u.HomeDir, ".local", "state", rel), nil
	}
	if x := getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, rel), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("no HOME for the progress file (use --progress FILE)")
	}
	return filepath.Join(home, ".local", "state", rel), nil
}

// SudoOwner is the student who ran podlab under sudo, whose progress file
// it is wherever it lives; NoOwner when not under sudo.
func SudoOwner() Owner {
	return sudoOwner(os.Getenv, os.Geteuid())
}

func sudoOwner(getenv func(string) string, euid int) Owner {
	if euid != 0 || getenv("SUDO_USER") == "" || getenv("SUDO_USER") == "root" {
		return NoOwner
	}
	uid, uerr := strconv.Atoi(getenv("SUDO_UID"))
	gid, gerr := strconv.Atoi(getenv("SUDO_GID"))
	if uerr != nil || gerr != nil {
		return NoOwner
	}
	return Owner{uid, gid}
}
