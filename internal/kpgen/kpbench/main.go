// Command kpbench is scripts/bench-kubeproxy.sh's tool: it writes
// kube-proxy's rules for a number of services and endpoints, and reads
// them back through podlab's firewall reader and walk, timing itself.
//
//	kpbench gen [-nft] [-yaobank N] [-services N -endpoints M]  > rules
//	kpbench read -netns NAME [-nft] [-runs N]
//	kpbench time [-netns NAME] -- COMMAND ARGS…
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"podlab/internal/kpgen"
	"podlab/kubeproxy"
	"podlab/lab"
	"podlab/lab/firewall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "kpbench: gen, read or time")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "read":
		err = read(os.Args[2:])
	case "time":
		err = timeCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: gen, read or time", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kpbench:", err)
		os.Exit(1)
	}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	nft := fs.Bool("nft", false, "nft -f input (nftables mode) instead of iptables-restore input")
	yb := fs.Int("yaobank", 0, "the lesson's services, summary with this many endpoints")
	svcs := fs.Int("services", 5000, "services")
	eps := fs.Int("endpoints", 20000, "endpoints in all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s := kpgen.Scale(*svcs, *eps)
	if *yb > 0 {
		s = kpgen.Yaobank(*yb)
	} else {
		// The lesson's summary service last, so the walk finds it among the rest.
		s = append(s, kpgen.Summary(2))
	}
	if *nft {
		return kpgen.WriteNFT(os.Stdout, s)
	}
	return kpgen.WriteIPTables(os.Stdout, s)
}

// read reads the namespace's rules and walks the summary service, runs
// times, and prints the mean wall time and this process's peak RSS.
func read(args []string) error {
	fs := flag.NewFlagSet("read", flag.ContinueOnError)
	ns := fs.String("netns", "", "named network namespace")
	nft := fs.Bool("nft", false, "read the nftables table instead")
	runs := fs.Int("runs", 1, "runs")
	prof := fs.String("cpuprofile", "", "write a CPU profile here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// podlab show runs with GOGC 400 (cli's showGCPercent): what it
	// reads stays live until it exits. The reader is measured as show
	// will run it; a GOGC in the environment is left to rule.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	summary := kpgen.Summary(2).Port
	start := time.Now()
	var w kubeproxy.Walk
	var rules int
	for range *runs {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var t *kubeproxy.Table
		var err error
		if *nft {
			t, err = firewall.ReadNFT(ctx, lab.NSRef{Name: *ns})
		} else {
			t, err = firewall.ReadIPTables(ctx, lab.NSRef{Name: *ns})
		}
		cancel()
		if err != nil {
			return err
		}
		w = kubeproxy.WalkService(t, summary)
		rules = t.Rules()
	}
	wall := time.Since(start) / time.Duration(*runs)
	if !w.Found || len(w.Hops) == 0 {
		return fmt.Errorf("the walk did not find %s", summary)
	}
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	cpu := (cpuTime(&self) + cpuTime(&kids)) / time.Duration(*runs)
	fmt.Printf("podlab-read+walk wall_ms %.1f cpu_ms %.1f rss_mib %.1f self_cpu_ms %.1f child_rss_mib %.1f rules %d hops %d\n",
		ms(wall), ms(cpu), float64(self.Maxrss)/1024, ms(cpuTime(&self)/time.Duration(*runs)), float64(kids.Maxrss)/1024, rules, len(w.Hops))
	return nil
}

// timeCmd runs a command (stdout discarded) and prints its wall time,
// CPU time and peak RSS, as the kernel counts them for the child. With
// -netns it starts the command in the namespace as the firewall reader
// starts iptables-save (from a thread that joined it), so that the two
// sides differ only in what they do with the output.
func timeCmd(args []string) error {
	fs := flag.NewFlagSet("time", flag.ContinueOnError)
	ns := fs.String("netns", "", "named network namespace to run in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	args = fs.Args()
	if len(args) == 0 {
		return fmt.Errorf("time: no command")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	var start time.Time
	err := lab.InNS(lab.NSRef{Name: *ns}, func() error {
		start = time.Now()
		return cmd.Run()
	})
	if err != nil {
		return err
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	fmt.Printf("%s wall_ms %.1f cpu_ms %.1f rss_mib %.1f\n", args[0], ms(wall), ms(cpuTime(ru)), float64(ru.Maxrss)/1024)
	return nil
}

func cpuTime(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
