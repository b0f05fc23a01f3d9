package bird

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"podlab/internal/hostile"
	"podlab/netview"
)

// conversation is BIRD's side of one exchange, read from what it wrote;
// what podlab writes is kept to be checked.
type conversation struct {
	io.Reader
	sent bytes.Buffer
}

func (c *conversation) Write(p []byte) (int, error) { return c.sent.Write(p) }

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readTestdata(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readTestdata(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }

// TestExchangeReadsBird: the captures of a real BIRD 2.0.12 (a mesh
// session Established, then its peer stopped) and the shape of Calico's
// BIRD 1.6 (proto_cmd_show's format, protocol-level counts, no restrict)
// read as birdc shows them.
func TestExchangeReadsBird(t *testing.T) {
	addr := netip.MustParseAddr
	tests := []struct {
		file  string
		names []string
		// the session checked, and what it must read as
		session     string
		want        netview.BirdProtocol
		established bool
		channel     netview.BirdChannel
	}{
		{
			file:    "bird2-established.txt",
			names:   []string{"device1", "static1", "kernel1", "Mesh_10_99_0_2"},
			session: "Mesh_10_99_0_2",
			want: netview.BirdProtocol{Name: "Mesh_10_99_0_2", Proto: "BGP", Table: "---", State: "up", Since: "08:14:49.536", Info: "Established",
				BGP:    &netview.BirdBGP{State: "Established", NeighborAddr: addr("10.99.0.2"), NeighborAS: 64512, LocalAS: 64512, NeighborID: addr("10.99.0.2"), SourceAddr: addr("10.99.0.1")},
				Routes: netview.BirdRoutes{Imported: 1, Exported: 1, Preferred: 1}},
			established: true,
			channel:     netview.BirdChannel{Name: "ipv4", State: "UP", Table: "master4", ImportFilter: "ACCEPT", ExportFilter: "ACCEPT", Routes: netview.BirdRoutes{Imported: 1, Exported: 1, Preferred: 1}},
		},
		{
			file:    "bird2-active.txt",
			names:   []string{"device1", "static1", "kernel1", "Mesh_10_99_0_2"},
			session: "Mesh_10_99_0_2",
			want: netview.BirdProtocol{Name: "Mesh_10_99_0_2", Proto: "BGP", Table: "---", State: "start", Since: "08:12:25.605", Info: "Active Socket: Connection refused",
				BGP: &netview.BirdBGP{State: "Active", NeighborAddr: addr("10.99.0.2"), NeighborAS: 64512, LocalAS: 64512, LastError: "Socket: Connection refused"}},
			channel: netview.BirdChannel{Name: "ipv4", State: "DOWN", Table: "master4", ImportFilter: "ACCEPT", ExportFilter: "ACCEPT"},
		},
		{
			file:    "bird1-calico.txt",
			names:   []string{"static1", "Mesh_198_19_0_2", "Mesh_198_19_0_3"},
			session: "Mesh_198_19_0_2",
			want: netview.BirdProtocol{Name: "Mesh_198_19_0_2", Proto: "BGP", Table: "master", State: "up", Since: "07:22:37", Info: "Established", Description: "Connection to BGP peer",
				BGP:    &netview.BirdBGP{State: "Established", NeighborAddr: addr("198.19.0.2"), NeighborAS: 64512, NeighborID: addr("198.19.0.2"), SourceAddr: addr("198.19.0.1")},
				Routes: netview.BirdRoutes{Imported: 1, Exported: 2, Preferred: 1}},
			established: true,
			channel:     netview.BirdChannel{ImportFilter: "ACCEPT", ExportFilter: "calico_export_to_bgp_peers", Routes: netview.BirdRoutes{Imported: 1, Exported: 2, Preferred: 1}},
		},
		{
			file:    "bird1-calico.txt",
			names:   []string{"static1", "Mesh_198_19_0_2", "Mesh_198_19_0_3"},
			session: "Mesh_198_19_0_3",
			want: netview.BirdProtocol{Name: "Mesh_198_19_0_3", Proto: "BGP", Table: "master", State: "start", Since: "2026-12-04", Info: "Active Socket: Connection refused", Description: "Connection to BGP peer",
				BGP: &netview.BirdBGP{State: "Active", NeighborAddr: addr("198.19.0.3"), NeighborAS: 64512, LastError: "Socket: Connection refused"}},
			channel: netview.BirdChannel{ImportFilter: "ACCEPT", ExportFilter: "calico_export_to_bgp_peers"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.session, func(t *testing.T) {
			c := &conversation{Reader: bytes.NewReader(readFile(t, tt.file))}
			ps, err := exchange(c, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.sent.String(), "restrict\nshow protocols all\n"; got != want {
				t.Errorf("sent %q, want %q", got, want)
			}
			var names []string
			for _, p := range ps {
				names = append(names, p.Name)
			}
			if strings.Join(names, " ") != strings.Join(tt.names, " ") {
				t.Errorf("protocols %q, want %q", names, tt.names)
			}
			p := ps.Find(tt.session)
			if p == nil {
				t.Fatalf("no protocol %s", tt.session)
			}
			if len(p.Channels) != 1 {
				t.Fatalf("channels %+v, want one", p.Channels)
			}
			if p.Channels[0] != tt.channel {
				t.Errorf("channel %+v, want %+v", p.Channels[0], tt.channel)
			}
			got := *p
			got.Channels = nil
			if !equalProtocol(got, tt.want) {
				t.Errorf("read %+v %+v\nwant %+v %+v", got, got.BGP, tt.want, tt.want.BGP)
			}
			if p.Established() != tt.established {
				t.Errorf("Established() = %v, want %v", p.Established(), tt.established)
			}
			var sessions []string
			for _, s := range ps.Sessions() {
				sessions = append(sessions, s.Name)
			}
			var mesh []string
			for _, n := range tt.names {
				if strings.HasPrefix(n, "Mesh_") {
					mesh = append(mesh, n)
				}
			}
			if strings.Join(sessions, " ") != strings.Join(mesh, " ") {
				t.Errorf("sessions %q, want %q", sessions, mesh)
			}
		})
	}
}

func equalProtocol(a, b netview.BirdProtocol) bool {
	if (a.BGP == nil) != (b.BGP == nil) || a.BGP != nil && *a.BGP != *b.BGP {
		return false
	}
	a.BGP, b.BGP = nil, nil
	return a.Name == b.Name && a.Proto == b.Proto && a.Table == b.Table && a.State == b.State &&
		a.Since == b.Since && a.Info == b.Info && a.Description == b.Description && a.Routes == b.Routes
}

// TestParseRow: the row's columns, whatever the widths and time format.
func TestParseRow(t *testing.T) {
	tests := []struct {
		name, row             string
		wantName, since, info string
		wantOK                bool
	}{
		{"bird2", "Mesh_198_19_0_1 BGP        ---        up     08:14:49.536  Established   ", "Mesh_198_19_0_1", "08:14:49.536", "Established", true},
		{"bird2 no info", "device1    Device     ---        up     08:12:10.685  ", "device1", "08:12:10.685", "", true},
		{"iso long", "bgp1       BGP        ---        up     2026-12-05 08:12:10  Established", "bgp1", "2026-12-05 08:12:10", "Established", true},
		{"date only", "bgp1       BGP        ---        start  2026-12-04    Active        Socket: Connection refused", "bgp1", "2026-12-04", "Active Socket: Connection refused", true},
		{"one space", "bgp1 BGP master up 07:22:37 Established", "bgp1", "07:22:37", "Established", true},
		{"one space, info with runs", "bgp1 BGP master start 2026-12-04 Active        Socket: x", "bgp1", "2026-12-04", "Active Socket: x", true},
		{"too few columns", "bgp1 BGP master", "", "", "", false},
		{"empty", "", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := parseRow(tt.row)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if p.Name != tt.wantName || p.Since != tt.since || p.Info != tt.info {
				t.Errorf("name %q since %q info %q, want %q %q %q", p.Name, p.Since, p.Info, tt.wantName, tt.since, tt.info)
			}
		})
	}
}

// TestExchangeRefusesWhatIsNotBird: every way the other end can be wrong
// or too much is one error line naming it, never a hang or a partial read.
func TestExchangeRefusesWhatIsNotBird(t *testing.T) {
	hello := "0001 BIRD 2.0.12 ready.\n0016 Access restricted\n"
	row := func(i int) string { return "1002-bgp" + string(rune('a'+i%26)) + " BGP --- up 08:00:00  Established\n" }
	small := Limits{Bytes: 1 << 10, Lines: 20, Line: 80, Protocols: 3, Channels: 2}
	tests := []struct {
		name, answer string
		lim          Limits
		wantErr      string
		wantN        int
	}{
		{"http server", "HTTP/1.1 400 Bad Request\r\n\r\n", DefaultLimits, "not BIRD's control protocol", 0},
		{"no hello", "0000 \n", DefaultLimits, "not BIRD's control protocol", 0},
		{"closed at once", "", DefaultLimits, "unexpected EOF", 0},
		{"closed mid reply", hello + "1002-bgp1 BGP --- up 08:00:00  Established\n", DefaultLimits, "unexpected EOF", 0},
		{"continuation first", "0001 BIRD ready.\n continued\n", DefaultLimits, "not BIRD's control protocol", 0},
		{"restrict answered oddly", "0001 BIRD ready.\n0000 \n", DefaultLimits, "not BIRD's control protocol", 0},
		{"restrict denied", "0001 BIRD ready.\n8007 Access denied\n", DefaultLimits, `refused "restrict": 8007 Access denied`, 0},
		{"show refused", hello + "9001 syntax error\n", DefaultLimits, `refused "show protocols all": 9001 syntax error`, 0},
		{"no protocols", hello + "8003 No protocols match\n", DefaultLimits, "", 0},
		{"restrict unknown (bird 1)", "0001 BIRD 1.6 ready.\n9001 syntax error\n" + row(0) + "0000 \n", DefaultLimits, "", 1},
		{"spontaneous lines skipped", hello + "+0000 log line\n" + row(0) + "+++ more\n0000 \n", DefaultLimits, "", 1},
		{"line too long", hello + "1002-" + strings.Repeat("x", 100) + "\n", small, "a line longer than 80 bytes", 0},
		{"too many bytes", hello + "1006-\n" + strings.Repeat(" "+strings.Repeat("y", 60)+"\n", 19), small, "more than 1 KiB", 0},
		{"too many lines", hello + "1006-\n" + strings.Repeat(" \n", 30), small, "more than 20 lines", 0},
		{"too many protocols", hello + row(0) + row(1) + row(2) + row(3) + "0000 \n", small, "more than 3 protocols", 0},
		{"too many channels", hello + row(0) + "1006-  Channel a\n   Channel b\n   Channel c\n0000 \n", small, "more than 2 channels in protocol bgpa", 0},
		{"control characters cleaned", hello + "1002-bgp\x1b]0;x\x07 BGP --- up 08:00:00  Est\x1b[2Jablished\n0000 \n", DefaultLimits, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := exchange(&conversation{Reader: strings.NewReader(tt.answer)}, tt.lim)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != tt.wantN {
				t.Fatalf("%d protocols, want %d: %+v", len(ps), tt.wantN, ps)
			}
			if dirty := hostile.Unclean(ps); len(dirty) > 0 {
				t.Errorf("control characters in %v", dirty)
			}
		})
	}
}

// TestLimitErrorIsOneLine: what a caller shows of an answer over a bound
// names that bound, in one line.
func TestLimitErrorIsOneLine(t *testing.T) {
	_, err := exchange(&conversation{Reader: strings.NewReader("0001 x\n" + strings.Repeat("y", 200))}, Limits{Bytes: 1 << 10, Lines: 10, Line: 64, Protocols: 1, Channels: 1})
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("err %v, want a LimitError", err)
	}
	msg := exchangeError(t.Context(), "/run/bird.ctl", 0, err).Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "a line longer than 64 bytes") {
		t.Errorf("message %q", msg)
	}
}
