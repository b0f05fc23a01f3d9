package content

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"

	"podlab/netview"
)

// StepVerdict is what `podlab check` says of one step: whether the lab
// shows what the step points at, and if not, what is missing.
type StepVerdict struct {
	Step    string   `json:"step"` // "4.3"
	Title   string   `json:"title"`
	Checks  []string `json:"checks"` // the pack's lab checks the step relies on
	OK      bool     `json:"ok"`
	Missing []string `json:"missing,omitempty"`
}

// CheckLab runs the built-in lesson's lab checks; see Pack.CheckLab.
func CheckLab(secs []Section, p *netview.Pair) []StepVerdict {
	pk := emptyPack()
	if len(secs) > 0 && len(secs[0].Steps) > 0 {
		pk = secs[0].Steps[0].pack()
	}
	return pk.checkLab(secs, p)
}

// CheckLab runs each step's lab checks against one analysed pair: a step
// passes when every check whose tags it highlights finds nothing missing.
// A step that highlights nothing checkable passes with no checks.
func (pk *Pack) CheckLab(p *netview.Pair) []StepVerdict { return pk.checkLab(pk.Sections, p) }

func (pk *Pack) checkLab(secs []Section, p *netview.Pair) []StepVerdict {
	a := netview.Analyze(p)
	found := pk.runChecks(p, &a)
	var out []StepVerdict
	for _, sec := range secs {
		for _, st := range sec.Steps {
			v := StepVerdict{Step: st.ID(), Title: st.Title, Checks: pk.checksFor(st.Highlight), OK: true}
			for _, c := range v.Checks {
				if m := found[c]; len(m) > 0 {
					v.OK = false
					v.Missing = append(v.Missing, m...)
				}
			}
			out = append(out, v)
		}
	}
	return out
}

// checksFor are the checks a step highlighting tags relies on, sorted.
func (pk *Pack) checksFor(tags []string) []string {
	out := []string{}
	for _, c := range pk.x().lab {
		for _, t := range c.Tags {
			if slices.Contains(tags, t) && !slices.Contains(out, c.Name) {
				out = append(out, c.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkActivation is what a lab check reads: the text's facts and those
// only checks read. It is made once for a `podlab check`, so plainly.
func (pk *Pack) checkActivation(p *netview.Pair, a *netview.Analysis) map[string]any {
	v := VarsOf(p, a)
	act := pk.x().activation(&v)
	lf := netview.FactsForChecks(p, a)
	act["PodPhase"] = lf.PodPhase
	act["PodVeth"] = lf.PodVeth
	act["PodHoldsIP"] = lf.PodHoldsIP
	act["VethAgree"] = a.Veth.Agree
	act["VethReason"] = a.Veth.Reason
	act["GatewayDefaultRoute"] = a.Gateway.DefaultRoute
	act["GatewayLinkRoute"] = a.Gateway.LinkRoute
	act["GatewayProxyARP"] = a.Gateway.HostProxyARP
	act["NodeCoversGateway"] = lf.NodeCoversGateway
	act["CalicoGateway"] = netview.CalicoGateway.String()
	act["Mode"] = string(p.Facts.Mode)
	routes := make(map[string]any, len(lf.Routes))
	for dst, r := range lf.Routes {
		routes[dst] = map[string]any{"class": string(r.Class), "dev": r.Dev, "proto": r.Proto, "family": int64(r.Family)}
	}
	classes := []string{}
	for c, ok := range lf.HasClass4 {
		if ok {
			classes = append(classes, string(c))
		}
	}
	slices.Sort(classes)
	blocks := make([]any, 0, len(lf.Blocks))
	for _, b := range lf.Blocks {
		blocks = append(blocks, map[string]any{"cidr": b.CIDR.String(), "node": b.Node, "own": b.Own})
	}
	local := make([]any, 0, len(lf.LocalAddrs))
	for _, l := range lf.LocalAddrs {
		local = append(local, map[string]any{"ip": l.IP.String(), "pod": l.Pod, "shown": l.Shown})
	}
	act["HostRoutes"], act["HostClasses4"], act["Blocks"], act["LocalAddrs"] = routes, classes, blocks, local
	return act
}

// MaxMissing is how many findings one check lists; the rest are counted.
const MaxMissing = 50

// runChecks runs every lab check of the pack: what each finds missing, in
// the pack's words. A check whose expression cannot be evaluated says so.
// The whole run has ChecksTimeout, and each check lists at most
// MaxMissing findings, so no pack makes `podlab check` run or print
// without end.
func (pk *Pack) runChecks(p *netview.Pair, a *netview.Analysis) map[string][]string {
	ctx, cancel := context.WithTimeout(context.Background(), ChecksTimeout)
	defer cancel()
	act := pk.checkActivation(p, a)
	data := maps.Clone(act)
	out := map[string][]string{}
	late := fmt.Sprintf("the check could not run: the pack's checks took longer than %s", ChecksTimeout)
	for _, c := range pk.x().lab {
		if ctx.Err() != nil {
			// Not run is not passed.
			out[c.Name] = append(out[c.Name], late)
			continue
		}
		more := 0
		say := func(msg string) {
			if len(out[c.Name]) < MaxMissing {
				out[c.Name] = append(out[c.Name], msg)
			} else {
				more++
			}
		}
		for _, r := range c.rules {
			if ctx.Err() != nil {
				break
			}
			items := []any{nil}
			if r.list != nil {
				l, err := evalCtx(ctx, r.list, act)
				if err != nil {
					say("the check could not run: " + err.Error())
					continue
				}
				items = nil
				if lv, ok := l.Value().([]any); ok {
					items = lv
				} else if conv, err := l.ConvertToNative(anySliceType); err == nil {
					items = conv.([]any)
				}
			}
			for _, it := range items {
				if ctx.Err() != nil {
					break
				}
				if r.list != nil {
					act[r.loopVar], data[r.loopVar] = it, it
				}
				for _, cs := range r.cases {
					res, err := evalCtx(ctx, cs.fail, act)
					if err != nil {
						say("the check could not run: " + err.Error())
						break
					}
					if res.Value() != true {
						continue
					}
					msg, err := execute(cs.say, data)
					if err != nil {
						msg = "the check's words could not be written: " + clean(err.Error())
					}
					say(strings.TrimSpace(msg))
					break
				}
			}
			if r.list != nil {
				delete(act, r.loopVar)
				delete(data, r.loopVar)
			}
		}
		if more > 0 {
			out[c.Name] = append(out[c.Name], fmt.Sprintf("and %d more", more))
		}
		if ctx.Err() != nil {
			out[c.Name] = append(out[c.Name], late)
		}
	}
	return out
}

var anySliceType = reflect.TypeOf([]any{})

// Failed counts the steps that did not pass.
func Failed(vs []StepVerdict) int {
	n := 0
	for _, v := range vs {
		if !v.OK {
			n++
		}
	}
	return n
}

// WriteVerdicts prints the verdicts, one line a step with what is missing
// under a failed one, or as a JSON array.
func WriteVerdicts(w io.Writer, vs []StepVerdict, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(vs)
	}
	for _, v := range vs {
		verdict, what := "pass", strings.Join(v.Checks, ", ")
		if !v.OK {
			verdict = "FAIL"
		}
		if what == "" {
			what = "nothing in the lab to check"
		}
		if _, err := fmt.Fprintf(w, "%-4s %-5s %s (%s)\n", verdict, v.Step, v.Title, what); err != nil {
			return err
		}
		for _, m := range v.Missing {
			fmt.Fprintf(w, "           missing: %s\n", m)
		}
	}
	_, err := fmt.Fprintf(w, "%d of %d steps pass\n", len(vs)-Failed(vs), len(vs))
	return err
}
