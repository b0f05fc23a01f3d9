package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"podlab/lab"
	"podlab/termtext"
)

// ResponderCommand is the hidden `podlab sandbox` subcommand a yaobank
// pod's responder runs as.
const ResponderCommand = "serve-pod"

// nobody is who a responder runs as once it listens.
const nobody = 65534

// ServeResponder is a pod's responder: args are exactly what
// responderCmdline writes (--listen=IP:PORT --pod=NAMESPACE/NAME). It
// listens, gives up root, and answers every HTTP request with the pod's
// name and address, until SIGTERM.
func ServeResponder(args []string) error {
	if len(args) != 2 || !strings.HasPrefix(args[0], "--listen=") || !strings.HasPrefix(args[1], "--pod=") {
		return errors.New("serve-pod is podlab's own: it takes --listen=IP:PORT --pod=NAMESPACE/NAME")
	}
	addr, err := netip.ParseAddrPort(strings.TrimPrefix(args[0], "--listen="))
	if err != nil {
		return fmt.Errorf("serve-pod: %w", err)
	}
	pod := strings.TrimPrefix(args[1], "--pod=")
	l, err := net.Listen("tcp", addr.String())
	if err != nil {
		return fmt.Errorf("serve-pod: %w", err)
	}
	// The port is bound: nothing further needs root.
	if os.Getuid() == 0 {
		if err := dropRoot(); err != nil {
			return fmt.Errorf("serve-pod: give up root: %w", err)
		}
	}
	answer := pod + " " + addr.String() + "\n"
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, answer)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve-pod: %w", err)
	}
	return nil
}

func dropRoot() error {
	if err := syscall.Setgroups(nil); err != nil {
		return err
	}
	if err := syscall.Setgid(nobody); err != nil {
		return err
	}
	return syscall.Setuid(nobody)
}

// Answer is one request's answer: the endpoint that answered, as its
// responder names itself.
type Answer struct {
	Endpoint netip.AddrPort
	Pod      string // "<namespace>/<name>"
	Node     string // from the sandbox's state
}

// maxAnswer bounds what podlab reads of an answer.
const maxAnswer = 4 << 10

// requestTimeout bounds one request.
const requestTimeout = 5 * time.Second

// request makes one HTTP request from inside the namespace ns to dst on
// a new connection, so that it is a new connection to kube-proxy's rules.
func request(ctx context.Context, ns string, dst netip.AddrPort) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var c net.Conn
	err := lab.InNS(lab.NSRef{Name: ns}, func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", dst.String())
		return err
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: podlab\r\nConnection: close\r\n\r\n", dst); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(io.LimitReader(c, maxAnswer)), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("answer %s", termtext.Clean(termtext.FirstLine(resp.Status)))
	}
	return termtext.Clean(termtext.FirstLine(string(b))), nil
}

// parseAnswer reads a responder's answer, "<namespace>/<name> IP:PORT",
// and names the node from the state.
func (s *State) parseAnswer(text string) (Answer, error) {
	f := strings.Fields(text)
	if len(f) != 2 {
		return Answer{}, fmt.Errorf("an answer podlab's responders do not give: %q", termtext.Cut(text, 80))
	}
	ep, err := netip.ParseAddrPort(f[1])
	if err != nil {
		return Answer{}, fmt.Errorf("an answer podlab's responders do not give: %q", termtext.Cut(text, 80))
	}
	a := Answer{Endpoint: ep, Pod: f[0]}
	ns, name, _ := strings.Cut(f[0], "/")
	if p := s.Pod(ns, name); p != nil {
		a.Node = p.Node
	}
	return a, nil
}
