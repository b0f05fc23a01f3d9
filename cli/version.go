package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Stamped by the release build (scripts/release.sh):
//
//	-ldflags "-X podlab/cli.version=... -X podlab/cli.commit=... -X podlab/cli.date=..."
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

// stamp is what podlab says it was built from: the release's -X values,
// else what the Go toolchain recorded (`go install …@v1.2.3` records the
// module version, `go build` in a git checkout the commit; a linked git
// worktree records none).
type stamp struct{ version, commit, date string }

func buildStamp(info *debug.BuildInfo, ok bool) stamp {
	s := stamp{version, commit, date}
	if !ok || info == nil {
		return s
	}
	if s.version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		s.version = info.Main.Version
	}
	vcs := map[string]string{}
	for _, kv := range info.Settings {
		vcs[kv.Key] = kv.Value
	}
	if s.commit == "unknown" && vcs["vcs.revision"] != "" {
		s.commit = vcs["vcs.revision"]
		if vcs["vcs.modified"] == "true" {
			s.commit += " (modified)"
		}
	}
	if s.date == "unknown" && vcs["vcs.time"] != "" {
		// The commit's time: the toolchain records no build time.
		s.date = vcs["vcs.time"] + " (commit time)"
	}
	return s
}

// versionText is what `podlab version` and `podlab --version` print.
func versionText(name string) string {
	s := buildStamp(debug.ReadBuildInfo())
	return fmt.Sprintf("%s %s\n  commit:   %s\n  built:    %s\n  go:       %s\n  platform: %s/%s\n",
		name, s.version, s.commit, s.date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newVersion(name string) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "print podlab's version, commit, build date, Go version and platform",
		Example: examples(name, "the version", "version", "the same", "--version"),
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := io.WriteString(c.OutOrStdout(), versionText(name))
			return err
		},
	}
}
