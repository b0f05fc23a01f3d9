package cli

import (
	"strings"
	"testing"
)

// TestClassFlagErrors: mistakes in the class flags are one line, before
// anything is served or opened.
func TestClassFlagErrors(t *testing.T) {
	t.Setenv("PODLAB_CLASS_TOKEN", "")
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--serve", "7777"}, `--serve "7777": want HOST:PORT`},
		{[]string{"--serve", "127.0.0.1:0", "--follow", "http://127.0.0.1:1"}, "--serve and --follow do not go together"},
		{[]string{"--name", "ana"}, "--name and --no-report go with --follow"},
		{[]string{"--no-report"}, "--name and --no-report go with --follow"},
		{[]string{"--follow", "127.0.0.1:7777", "--class-token", "t"}, "want the presenter's URL"},
		{[]string{"--follow", "http://127.0.0.1:7777"}, "--follow needs the class token"},
		{[]string{"--serve", "192.0.2.1:7777"}, "serve the class on 192.0.2.1:7777"},
		{[]string{"--new-class"}, "--new-class and --class-per-address go with --serve"},
		{[]string{"--serve", "127.0.0.1:0", "--class-per-address", "-1"}, "--class-per-address must be 1 to 512"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := podlab(t, append(tt.args, "--lab", "recording")...)
			if code == 0 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want one line with %q", code, stderr, tt.want)
			}
		})
	}
}

// TestURLPasswordRedacted: a URL with user:password@ is printed with the
// password hidden, whichever URL it is.
func TestURLPasswordRedacted(t *testing.T) {
	t.Setenv("PODLAB_CLASS_TOKEN", "")
	t.Setenv("KUBECONFIG", "")
	tests := [][]string{
		{"show", "--lab", "cluster", "--server", "https://ana:s3cret@127.0.0.1:1"},
		{"show", "--lab", "cluster", "--server", "ana:s3cret@127.0.0.1:1"},
		{"show", "--lab", "cluster", "--server", "https://ana:s3cret@127.0.0.1:99999"},
		{"show", "--lab", "auto", "--server", "https://ana:s3cret@127.0.0.1:1"},
		{"--lab", "recording", "--follow", "ftp://ana:s3cret@127.0.0.1:1", "--class-token", "t"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stdout, stderr := podlab(t, args...)
			if strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("the password is printed: %q", stdout+stderr)
			}
		})
	}
}
