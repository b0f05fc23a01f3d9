// Package cli is podlab's command line: the commands, their flags and
// help, and the exit codes. main only hands it the process's arguments.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"podlab/netview"
)

// Run runs the command line args (without the program's name) and returns
// the exit code: 0, 1 when the work failed, 2 for a mistake in the command
// line. argv0 is the name podlab was started as: as kubectl-podlab it is a
// kubectl plugin and its help and errors say "kubectl podlab".
func Run(ctx context.Context, argv0 string, args []string, stdout, stderr io.Writer) int {
	name := displayName(argv0)
	root := newRoot(name, stdout, stderr)
	if c, _, err := root.Find(args); err == nil && c.Name() == "collect" && c.Parent() == root && underSudo() {
		if err := checkSudoCollect(args); err != nil {
			fmt.Fprintln(stderr, errorLine(c.CommandPath(), err))
			return 2
		}
	}
	root.SetArgs(args)
	c, err := root.ExecuteContextC(ctx)
	// The node-side tools name themselves in their errors, as they did
	// when they were separate (scripts over ssh read them); the lesson,
	// show and record are podlab's.
	for p := c; p != nil && p != root; p = p.Parent() {
		if p.Parent() == root && (p.Name() == "collect" || p.Name() == "sandbox") {
			name = c.CommandPath()
		}
	}
	var ec exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		// The command has said what went wrong already.
		return int(ec)
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, errorLine(name, err))
		return 2
	default:
		fmt.Fprintln(stderr, errorLine(name, err))
		return 1
	}
}

// errorLine is how an error reaches the terminal: one line, named, with
// whatever outside text it quotes (a node's output, a path) escaped.
// An error with a Detail (the sandbox's BIRD log tail) has it printed on
// the lines after, each cleaned.
func errorLine(name string, err error) string {
	line := netview.Clean(name + ": " + netview.FirstLine(strings.TrimPrefix(err.Error(), errUsage.Error()+": ")))
	var d interface{ Detail() string }
	if errors.As(err, &d) {
		for l := range strings.Lines(d.Detail()) {
			line += "\n" + netview.Clean(strings.TrimSuffix(l, "\n"))
		}
	}
	return line
}

// displayName is how podlab names itself: "kubectl podlab" when run as a
// kubectl plugin (kubectl runs kubectl-podlab, found on PATH).
func displayName(argv0 string) string {
	base := filepath.Base(argv0)
	if strings.HasPrefix(base, "kubectl-") {
		return "kubectl " + strings.ReplaceAll(strings.TrimPrefix(base, "kubectl-"), "_", "-")
	}
	return "podlab"
}

// errUsage marks a mistake in the command line (exit code 2).
var errUsage = errors.New("usage")

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, a...)...)
}

// exitCode is an error whose message the command has printed already.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// helpHint is the advice that ends every usage error.
func helpHint(c *cobra.Command) string {
	return fmt.Sprintf("run %q for help", c.CommandPath()+" -h")
}

// noArgs refuses positional arguments: every podlab setting is a flag.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("unexpected argument %q (%s)", args[0], helpHint(c))
	}
	return nil
}

// newRoot builds the command tree. The outputs are set first: cobra's
// completion command takes its writer when it is made.
func newRoot(name string, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "podlab",
		Short: `the terminal companion to the Calico lesson "Pod Connectivity Fundamentals"`,
		Long: `podlab walks the lesson "Pod Connectivity Fundamentals" step by step beside
the live network state of the customer pod and of its node.

Where the data comes from (--lab):
  auto          a cluster if the kubeconfig reaches one with the pod, else a running
                sandbox, else the built-in recording (the default)
  cluster       a real cluster through the kubeconfig (-n, -l, --pod, --context, ...)
  sandbox       the sandbox on this machine; built if not running, removed on exit
                unless --keep
  netns         named namespaces on this machine: --host-netns and --pod-netns or
                --pod-ip
  recording     the built-in recording of the lesson's lab (no root, nothing installed)
  replay=FILE   a recording made with 'podlab record'`,
		Example: examples(name,
			"walk the lesson on whatever lab is at hand", "",
			"the same, checking your answers and keeping your progress", "--self-paced",
			"on the cluster of another kubeconfig context", "--lab cluster --context lab -n yaobank",
			"on the built-in recording, without colours", "--lab recording --plain",
			"lead a class from a projector; students follow the URL it prints", "--present --serve 0.0.0.0:7777",
			"follow the instructor (the token is in the URL they give)", "--follow 'http://198.19.15.254:7777/?token=…'",
			"a lesson pack of your own, on the built-in recording", "--pack ./my-lesson --lab recording"),
		Args:          rootArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: name},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetIn(strings.NewReader(""))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%v (%s)", err, helpHint(c))
	})
	root.SetUsageFunc(usage)
	root.SetHelpFunc(help)
	addLessonFlags(root, name)
	root.AddCommand(newShow(name), newCheck(name), newRecord(name), newCollect(name), newSandbox(name), newPack(name), newVersion(name))
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Short = "print the shell completion script: bash, zsh, fish or powershell"
			c.Args = func(c *cobra.Command, args []string) error {
				if len(args) == 0 {
					return usageErr("which shell? bash, zsh, fish or powershell (%s)", helpHint(c))
				}
				return usageErr("unknown shell %q: use bash, zsh, fish or powershell (%s)", args[0], helpHint(c))
			}
			c.RunE = func(*cobra.Command, []string) error { return nil }
			c.Example = examples(name,
				"bash, for this shell", "completion bash | source",
				"bash, for every new shell", "completion bash | sudo tee /etc/bash_completion.d/podlab >/dev/null",
				"zsh", "completion zsh > \"${fpath[1]}/_podlab\"")
		}
		if c.Name() == "help" {
			c.Short = "help about any command"
			c.Example = examples(name, "the flags of show", "help show")
		}
	}
	return root
}

// rootArgs: the root takes no arguments, so a word that is not a command
// is a mistyped command.
func rootArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("unknown command %q (%s)", args[0], helpHint(c))
	}
	return nil
}

// examples formats pairs of (what, arguments) as a command's examples.
// Arguments starting with "$ " are a whole command line of their own (one
// that runs podlab elsewhere, say), printed without podlab's name.
func examples(name string, pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte('\n')
		}
		line, whole := strings.CutPrefix(pairs[i+1], "$ ")
		if !whole {
			line = strings.TrimSpace(name + " " + line)
		}
		fmt.Fprintf(&b, "  # %s\n  %s", pairs[i], line)
	}
	return b.String()
}

// Flag groups: a command's help lists its own flags first, then the lab
// flags it shares with the other commands that read a lab, then the
// kubeconfig flags it shares with kubectl.
const (
	groupKey  = "podlab_group"
	groupLab  = "lab"
	groupKube = "kube"
)

func setGroup(fs *pflag.FlagSet, group string, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, groupKey, []string{group}); err != nil {
			panic(err) // a flag name misspelt in this package
		}
	}
}

// help is every command's -h: the usage lines, what the command does,
// its commands, examples and flags.
func help(c *cobra.Command, _ []string) {
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	_ = writeHelp(c, desc)
}

// usage is printed by cobra only for "help COMMAND"-like paths; it is the
// help without the description.
func usage(c *cobra.Command) error { return writeHelp(c, "") }

func writeHelp(c *cobra.Command, desc string) error {
	w := c.OutOrStdout()
	var b strings.Builder
	b.WriteString("Usage:\n")
	if c.Runnable() {
		fmt.Fprintf(&b, "  %s\n", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s COMMAND\n", c.CommandPath())
	}
	if desc != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimRight(desc, "\n"))
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\nCommands:\n")
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() || s.Name() == "help" {
				fmt.Fprintf(&b, "  %-11s %s\n", s.Name(), s.Short)
			}
		}
	}
	if c.Example != "" {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", c.Example)
	}
	own := pflag.NewFlagSet("own", pflag.ContinueOnError)
	labs := pflag.NewFlagSet("lab", pflag.ContinueOnError)
	kube := pflag.NewFlagSet("kube", pflag.ContinueOnError)
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		switch g := f.Annotations[groupKey]; {
		case len(g) == 1 && g[0] == groupLab:
			labs.AddFlag(f)
		case len(g) == 1 && g[0] == groupKube:
			kube.AddFlag(f)
		default:
			own.AddFlag(f)
		}
	})
	for _, g := range []struct {
		title string
		fs    *pflag.FlagSet
	}{{"Flags", own}, {"Lab flags", labs}, {"Kubernetes flags (as kubectl's)", kube}} {
		if g.fs.HasFlags() {
			fmt.Fprintf(&b, "\n%s:\n%s", g.title, g.fs.FlagUsagesWrapped(100))
		}
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nRun '%s COMMAND -h' for a command's flags.\n", c.CommandPath())
	}
	_, err := io.WriteString(w, b.String())
	return err
}
