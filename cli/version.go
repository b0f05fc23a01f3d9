package cli

import (
	"fmt"
	"io"
	"runtime"

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

// versionText is what `podlab version` and `podlab --version` print.
func versionText(name string) string {
	return fmt.Sprintf("%s %s\n  commit:   %s\n  built:    %s\n  go:       %s\n  platform: %s/%s\n",
		name, version, commit, date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
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
