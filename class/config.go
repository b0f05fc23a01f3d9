package class

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/user"
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
}

// Start serves or follows as the config says: at most one of the two is
// non-nil, both nil without --serve or --follow. A generated token and
// the URL followers need are written to note.
func (c Config) Start(note io.Writer) (*Server, *Follower, error) {
	if c.Token == "" {
		c.Token = os.Getenv(TokenEnv)
	}
	switch {
	case c.Serve != "" && c.Follow != "":
		return nil, nil, errors.New("--serve and --follow do not go together: the presenter serves, students follow")
	case c.Follow == "" && (c.Name != "" || c.NoReport):
		return nil, nil, errors.New("--name and --no-report go with --follow")
	case c.Serve != "":
		if _, _, err := net.SplitHostPort(c.Serve); err != nil {
			return nil, nil, fmt.Errorf("--serve %q: want HOST:PORT, like 0.0.0.0:7777 or 127.0.0.1:7777", c.Serve)
		}
		generated := c.Token == ""
		if generated {
			c.Token = NewToken()
		}
		s, err := Listen(c.Serve, c.Token)
		if err != nil {
			return nil, nil, err
		}
		if generated {
			fmt.Fprintf(note, "podlab: class token generated (set %s or --class-token to choose one)\n", TokenEnv)
		}
		fmt.Fprintf(note, "podlab: students follow with: podlab --follow '%s'\n", s.FollowURL())
		return s, nil, nil
	case c.Follow != "":
		if c.Name == "" {
			c.Name = DefaultName()
		}
		f, err := NewFollower(c.Follow, c.Token, c.Name, !c.NoReport)
		return nil, f, err
	}
	return nil, nil, nil
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
