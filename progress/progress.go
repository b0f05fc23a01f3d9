// Package progress keeps a self-paced student's progress through the
// lesson: which steps are done, how many answers each took, and where
// they left off. Steps are named by their IDs ("2.4"). The pure part
// (Progress and its methods) is what the UI works with; Load, Save and
// DefaultPath are the file around it. Progress is kept per lesson pack
// and pack version (File.Pack, PackPath).
package progress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/user"
	"path/filepath"

	"github.com/google/renameio/v2"
	"golang.org/x/sys/unix"

	"podlab/netview"
	"podlab/sudo"
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

// file is the JSON form, versioned. Pack is the lesson pack it belongs
// to; the built-in lesson's files have none, as before packs.
type file struct {
	Version int    `json:"version"`
	Pack    string `json:"pack,omitempty"`
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

// MaxSize bounds a progress file: the lesson's few dozen steps take a
// few KiB, so anything near this is not progress.
const MaxSize = 1 << 20

// maxPackID bounds the pack a file names: a name and a version.
const maxPackID = 256

// ErrOtherPack marks a progress file kept for another lesson pack, or
// another version of it.
var ErrOtherPack = errors.New("holds the progress of another lesson pack")

// Load reads the progress kept at path with the process's own rights.
func Load(path string) (*Progress, error) { return File{Path: path}.Load() }

// Save writes the progress to path with the process's own rights.
func (p *Progress) Save(path string) error { return File{Path: path}.Save(p) }

// File is a progress file and whose rights it is read and written with.
type File struct {
	Path string
	// As is the student who ran podlab under sudo (see sudo.Invoker); nil
	// is the process's own rights.
	As *sudo.User
	// Pack is the lesson pack the progress is of, "name@version"; "" is
	// the built-in lesson's. A file of another pack is refused, so two
	// packs, or two versions of one, never mix.
	Pack string
}

// Load reads the progress. A missing file is a fresh start; a file that
// is not progress, or is larger than MaxSize, is an error wrapping
// ErrCorrupt. Under sudo the kernel checks the student's rights, so a
// file they could not read themselves is refused, never read as root.
func (f File) Load() (*Progress, error) {
	var data []byte
	err := f.As.Do(func() error {
		var err error
		data, err = ReadBounded(f.Path, MaxSize)
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		return &Progress{}, nil
	}
	if err != nil {
		return nil, f.refusal("reading progress from", err, "read")
	}
	p, pack, err := decode(f.Path, data)
	if err != nil {
		return nil, err
	}
	if pack != f.Pack {
		return nil, fmt.Errorf("%s %w: %s, not %s; choose another --progress FILE", f.Path, ErrOtherPack, packName(pack), packName(f.Pack))
	}
	return p, nil
}

// packName names a pack in a refusal.
func packName(id string) string {
	if id == "" {
		return "the built-in lesson"
	}
	return "pack " + netview.Clean(id)
}

// decode is the progress in data, read from the file at path, and the
// pack it is of.
func decode(path string, data []byte) (*Progress, string, error) {
	if len(data) > MaxSize {
		return nil, "", fmt.Errorf("%s: %w (larger than the %d MiB limit)", path, ErrCorrupt, MaxSize>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var pf file
	if err := dec.Decode(&pf); err != nil {
		return nil, "", fmt.Errorf("%s: %w (%v)", path, ErrCorrupt, netview.FirstLine(err.Error()))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", fmt.Errorf("%s: %w (more after the progress)", path, ErrCorrupt)
	}
	if len(pf.Pack) > maxPackID {
		return nil, "", fmt.Errorf("%s: %w (a pack name of %d bytes)", path, ErrCorrupt, len(pf.Pack))
	}
	if pf.Version != Version {
		return nil, "", fmt.Errorf("%s: %w (version %d, this podlab reads %d)", path, ErrCorrupt, pf.Version, Version)
	}
	for id, s := range pf.Steps {
		if s.Answers < 0 {
			return nil, "", fmt.Errorf("%s: %w (step %q has %d answers)", path, ErrCorrupt, id, s.Answers)
		}
	}
	return &pf.Progress, pf.Pack, nil
}

// encode is the file's text for p, of the pack.
func encode(p *Progress, pack string) ([]byte, error) {
	data, err := json.MarshalIndent(file{Version: Version, Pack: pack, Progress: *p.Clone()}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ReadBounded reads at most max+1 bytes of a regular file, so a caller
// can tell a file over its bound; opening without blocking means a FIFO
// put in its place cannot hang podlab. The student's state files
// (progress, a presenter's class) are read through it.
func ReadBounded(path string, max int) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	fh := os.NewFile(uintptr(fd), path)
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("not a regular file")}
	}
	return io.ReadAll(io.LimitReader(fh, int64(max)+1))
}

// Save writes the progress atomically (a temporary file renamed over
// it), mode 0644, making missing directories 0755. Under sudo every
// step runs with the student's rights, so the file and directories are
// theirs without a chown, and a path they could not write (a root-only
// directory, a symlink into one) is refused.
func (f File) Save(p *Progress) error {
	data, err := encode(p, f.Pack)
	if err != nil {
		return err
	}
	if err := f.As.Do(func() error { return WriteFile(f.Path, data, 0o755, 0o644) }); err != nil {
		return f.refusal("writing progress to", err, "write")
	}
	return nil
}

// WriteFile writes data to path atomically (a fresh temporary beside it,
// synced, renamed over it) with mode perm, making missing directories
// with dirPerm: the one way podlab writes a student's state files. Under
// sudo, call it inside the student's As.Do.
func WriteFile(path string, data []byte, dirPerm, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return err
	}
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(perm))
	if err != nil {
		return err
	}
	defer t.Cleanup()
	if _, err := t.Write(data); err != nil {
		return err
	}
	return t.CloseAtomicallyReplace()
}

// Check says, before the lesson starts, whether Save could write the
// file: the nearest existing directory on its path must be one the user
// can write, and the file must not be a directory. Save checks again
// anyway; this only moves a refusal to the start.
func (f File) Check() error {
	err := f.As.Do(func() error {
		if fi, err := os.Stat(f.Path); err == nil && fi.IsDir() {
			return &fs.PathError{Op: "open", Path: f.Path, Err: unix.EISDIR}
		}
		d := filepath.Dir(f.Path)
		for {
			fi, err := os.Stat(d)
			if err == nil {
				if !fi.IsDir() {
					return &fs.PathError{Op: "mkdir", Path: d, Err: unix.ENOTDIR}
				}
				break
			}
			if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(d) == d {
				return err
			}
			d = filepath.Dir(d)
		}
		// access(2) checks the real ids, which are the student's on
		// do's thread.
		if err := unix.Access(d, unix.W_OK|unix.X_OK); err != nil {
			return &fs.PathError{Op: "access", Path: d, Err: err}
		}
		return nil
	})
	if err != nil {
		return f.refusal("writing progress to", err, "write")
	}
	return nil
}

// refusal is err as one line that says what to do.
func (f File) refusal(doing string, err error, verb string) error {
	as := ""
	if f.As != nil {
		as = " as user " + f.As.Name
	}
	// The error's own path is said only when it is not the file or its
	// temporary neighbour: the directory in the way.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if pe.Path == f.Path || filepath.Dir(pe.Path) == filepath.Dir(f.Path) {
			err = pe.Err
		} else {
			err = fmt.Errorf("%s: %w", pe.Path, pe.Err)
		}
	}
	return fmt.Errorf("%s %s%s: %w; choose a --progress FILE you can %s", doing, f.Path, as, err, verb)
}

// DefaultPath is where progress is kept: $XDG_STATE_HOME/podlab/progress.json,
// else ~/.local/state/podlab/progress.json. Under sudo it is the invoking
// student's, in SUDO_USER's home whatever HOME says (read and write it
// as sudo.Invoker).
func DefaultPath() (string, error) {
	return defaultPath(os.Getenv, os.Geteuid(), user.Lookup)
}

// StatePath is the file name in podlab's state directory, where
// DefaultPath keeps the progress; the same rules hold.
func StatePath(name string) (string, error) {
	return statePath(name, os.Getenv, os.Geteuid(), user.Lookup)
}

// PackPath is where the progress through a lesson pack is kept by
// default: the built-in lesson's ("") at DefaultPath, as before packs;
// another pack's beside it, as progress-NAME@VERSION.json (a character a
// file name should not hold becomes "_"; the pack named in the file
// tells two such apart).
func PackPath(pack string) (string, error) {
	return statePath(packFile(pack), os.Getenv, os.Geteuid(), user.Lookup)
}

func packFile(pack string) string {
	if pack == "" {
		return "progress.json"
	}
	b := []byte(pack)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '@' || c == '+') {
			b[i] = '_'
		}
	}
	if len(b) > 128 {
		b = b[:128]
	}
	return "progress-" + string(b) + ".json"
}

func defaultPath(getenv func(string) string, euid int, lookup func(string) (*user.User, error)) (string, error) {
	return statePath("progress.json", getenv, euid, lookup)
}

func statePath(name string, getenv func(string) string, euid int, lookup func(string) (*user.User, error)) (string, error) {
	rel := filepath.Join("podlab", name)
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
