package class

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/user"
	"sync/atomic"
	"time"

	"podlab/netview"
)

// TokenEnv names the environment variable holding the class token.
const TokenEnv = "PODLAB_CLASS_TOKEN"

// Config is what the command line says about the class.
type Config struct {
	Serve    string // --serve ADDR
	Follow   string // --follow URL
	Token    string // --class-token; default $PODLAB_CLASS_TOKEN
	Name     string // --name; default user@host
	NoReport bool   // --no-report
	NewClass bool   // --new-class: do not resume the class kept
	// PerAddress is --class-per-address: streams and roster names from
	// one source address; 0 is DefaultPerAddress.
	PerAddress int
	// Steps are the lesson's step ids, the only ones a report may name.
	Steps []string
	// Store keeps the presenter's class across restarts; nil keeps
	// nothing.
	Store *Store
	// Pack is the lesson's pack, "name@version": a presenter serves it
	// and keeps it with the class, a follower names it; the two must
	// agree. Builtin says it is the built-in lesson, the only one a
	// podlab from before packs has (and a kept class names no pack).
	Pack    string
	Builtin bool
}

// Start serves or follows as the config says: at most one of the two is
// non-nil, both nil without --serve or --follow. What the presenter
// should know (a generated token, a resumed class, the URL followers
// need) is written to note, a line each.
func (c Config) Start(note io.Writer) (*Server, *Follower, error) {
	if c.Token == "" {
		c.Token = os.Getenv(TokenEnv)
	}
	switch {
	case c.Serve != "" && c.Follow != "":
		return nil, nil, errors.New("--serve and --follow do not go together: the presenter serves, students follow")
	case c.Follow == "" && (c.Name != "" || c.NoReport):
		return nil, nil, errors.New("--name and --no-report go with --follow")
	case c.Serve == "" && (c.NewClass || c.PerAddress != 0):
		return nil, nil, errors.New("--new-class and --class-per-address go with --serve")
	case c.PerAddress < 0 || c.PerAddress > MaxFollowers:
		return nil, nil, fmt.Errorf("--class-per-address must be 1 to %d, not %d", MaxFollowers, c.PerAddress)
	case c.Serve != "":
		return c.serve(note)
	case c.Follow != "":
		if c.Name == "" {
			c.Name = DefaultName()
		}
		f, err := NewFollower(c.Follow, c.Token, c.Name, !c.NoReport)
		if f != nil {
			f.pack = c.Pack
		}
		return nil, f, err
	}
	return nil, nil, nil
}

func (c Config) serve(note io.Writer) (*Server, *Follower, error) {
	if _, _, err := net.SplitHostPort(c.Serve); err != nil {
		return nil, nil, fmt.Errorf("--serve %q: want HOST:PORT, like 0.0.0.0:7777 or 127.0.0.1:7777", c.Serve)
	}
	// The class kept from the last run on this address resumes, unless a
	// token given now says it is another class; a class of another pack
	// is another class too.
	var kept *Saved
	if c.Store != nil && !c.NewClass {
		k, err := c.Store.Load()
		switch {
		case err != nil:
			fmt.Fprintf(note, "podlab: the class kept in %s cannot be read (%v): starting a new one\n", c.Store.Path, netview.Clean(err.Error()))
		case k != nil && k.Serve == c.Serve && (c.Token == "" || c.Token == k.Token):
			if k.Pack == c.keptPack() {
				kept = k
				break
			}
			fmt.Fprintf(note, "podlab: the class kept in %s was on %s: starting a new one\n", c.Store.Path, keptPackName(k.Pack))
		}
	}
	generated := false
	opts := ServerOptions{Token: c.Token, Steps: c.Steps, PerAddress: c.PerAddress, Pack: c.Pack, Bare: c.Builtin}
	switch {
	case kept != nil:
		opts.Token, opts.Start, opts.Names = kept.Token, kept.Pos, kept.Names
	case c.Token == "":
		opts.Token, generated = NewToken(), true
	}
	var keeping atomic.Bool
	if c.Store != nil {
		store := *c.Store
		opts.Keep = func(k Kept) {
			if keeping.Load() {
				store.Save(Saved{Serve: c.Serve, Pack: c.keptPack(), Token: k.Token, Pos: k.Pos, Names: k.Names, At: time.Now()})
			}
		}
	}
	s, err := Listen(c.Serve, opts)
	if err != nil {
		return nil, nil, err
	}
	if c.Store != nil {
		// Whether the class can be kept is known at once: the first save
		// is now, before the lesson starts.
		k := s.kept()
		err := c.Store.Save(Saved{Serve: c.Serve, Pack: c.keptPack(), Token: k.Token, Pos: k.Pos, Names: k.Names, At: time.Now()})
		if err != nil {
			fmt.Fprintf(note, "podlab: cannot keep the class in %s (%v): a restart starts a new class\n", c.Store.Path, netview.Clean(err.Error()))
		}
		keeping.Store(err == nil)
	}
	switch {
	case kept != nil:
		fmt.Fprintf(note, "podlab: resumed the class kept at %s: the same token, at step %s (--new-class starts afresh)\n",
			kept.At.Local().Format("Jan 2 15:04"), s.At())
	case generated:
		fmt.Fprintf(note, "podlab: class token generated (set %s or --class-token to choose one)\n", TokenEnv)
	}
	fmt.Fprintf(note, "podlab: students follow with: podlab --follow '%s'\n", s.FollowURL())
	return s, nil, nil
}

// keptPack is the pack a kept class names: none for the built-in
// lesson, as before packs.
func (c Config) keptPack() string {
	if c.Builtin {
		return ""
	}
	return c.Pack
}

func keptPackName(p string) string {
	if p == "" {
		return "the built-in lesson"
	}
	return "pack " + netview.Clean(p)
}

// FollowURL is the URL students give --follow, token included. An
// address bound on all interfaces is named by this machine's host name.
func (s *Server) FollowURL() string {
	host, port, _ := net.SplitHostPort(s.Addr())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: "/", RawQuery: url.Values{"token": {string(s.token)}}.Encode()}
	return u.String()
}

// DefaultName is user@host: the student who ran sudo, if they did.
func DefaultName() string {
	who := os.Getenv("SUDO_USER")
	if who == "" {
		if u, err := user.Current(); err == nil {
			who = u.Username
		}
	}
	host, _ := os.Hostname()
	return CleanName(who + "@" + host)
}
