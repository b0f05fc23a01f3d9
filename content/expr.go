package content

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"

	"podlab/kubeproxy"
	"podlab/netview"
)

// Bounds of a pack's expressions: they are outside input, so each is
// small, and no evaluation runs long or costs much, whatever it is given.
const (
	MaxExprBytes = 4096
	// ExprCostLimit allows a lab check to look at a large node's 20,000
	// routes a few times over, and no more.
	ExprCostLimit = 1_000_000
	// ValueCostLimit bounds what answers and derived values, which read
	// single values, may cost: they run at every refresh.
	ValueCostLimit = 100_000
	ExprTimeout    = 2 * time.Second
	// ChecksTimeout bounds a whole `podlab check`: every rule of every
	// check, each element of its list.
	ChecksTimeout = 10 * time.Second
)

// Function is one of podlab's own CEL functions.
type Function struct {
	Name, Signature, Doc string
}

// functions are what podlab adds to CEL (and ext.Strings), for the guide.
var functions = []Function{
	{"isAddress", "isAddress(string) -> bool", "the text is an IP address"},
	{"isLoopback", "isLoopback(string) -> bool", "the text is a loopback address (127.0.0.0/8, ::1)"},
	{"masked", "masked(string) -> string", "a prefix with its host bits cleared: 198.19.22.130/26 → 198.19.22.128/26; \"\" when not a prefix"},
	{"overlaps", "overlaps(string, string) -> bool", "two prefixes, either holding the other's address"},
	{"vethName", "vethName(prefix, namespace, pod string) -> string", "the host end's name Calico gives a pod's veth: prefix + SHA-1(\"ns.pod\")[:11]"},
	{"caliName", "caliName(namespace, pod string) -> string", "vethName with Felix's default prefix, cali"},
	{"blockOwner", "blockOwner(address string, blocks list(map)) -> string", "the node whose block (of Blocks) holds the address or prefix: blockOwner(\"198.19.21.70\", Blocks) → node2; \"\" when none"},
	{"kubeSvcChain", "kubeSvcChain(namespace, service, portName, protocol string) -> string", "kube-proxy's KUBE-SVC- chain of a service port: yaobank, summary, http, tcp → KUBE-SVC-OIQIZJVJK6E34BR4"},
	{"kubeSepChain", "kubeSepChain(namespace, service, portName, protocol, endpoint string) -> string", "its KUBE-SEP- chain for one endpoint \"ip:port\""},
}

// Functions are podlab's CEL functions, for the guide.
func Functions() []Function { return append([]Function(nil), functions...) }

func celFunctions() []cel.EnvOption {
	str := func(v ref.Val) string { s, _ := v.Value().(string); return s }
	prefixOf := func(s string) (netip.Prefix, bool) {
		p, err := netip.ParsePrefix(s)
		return p, err == nil
	}
	return []cel.EnvOption{
		ext.Strings(),
		cel.Function("isAddress", cel.Overload("is_address_string", []*cel.Type{cel.StringType}, cel.BoolType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				_, err := netip.ParseAddr(str(v))
				return types.Bool(err == nil)
			}))),
		cel.Function("isLoopback", cel.Overload("is_loopback_string", []*cel.Type{cel.StringType}, cel.BoolType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				a, err := netip.ParseAddr(str(v))
				return types.Bool(err == nil && a.IsLoopback())
			}))),
		cel.Function("masked", cel.Overload("masked_string", []*cel.Type{cel.StringType}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				if p, ok := prefixOf(str(v)); ok {
					return types.String(p.Masked().String())
				}
				return types.String("")
			}))),
		cel.Function("overlaps", cel.Overload("overlaps_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(func(a, b ref.Val) ref.Val {
				p, ok1 := prefixOf(str(a))
				q, ok2 := prefixOf(str(b))
				return types.Bool(ok1 && ok2 && (p.Contains(q.Addr()) || q.Contains(p.Addr())))
			}))),
		cel.Function("vethName", cel.Overload("veth_name_string_string_string", []*cel.Type{cel.StringType, cel.StringType, cel.StringType}, cel.StringType,
			cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				return types.String(netview.VethName(str(args[0]), str(args[1]), str(args[2])))
			}))),
		cel.Function("kubeSvcChain", cel.Overload("kube_svc_chain_string4", []*cel.Type{cel.StringType, cel.StringType, cel.StringType, cel.StringType}, cel.StringType,
			cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				return types.String(kubeproxy.SVCChain(servicePort(str(args[0]), str(args[1]), str(args[2]), str(args[3]))))
			}))),
		cel.Function("kubeSepChain", cel.Overload("kube_sep_chain_string5", []*cel.Type{cel.StringType, cel.StringType, cel.StringType, cel.StringType, cel.StringType}, cel.StringType,
			cel.FunctionBinding(func(args ...ref.Val) ref.Val {
				return types.String(kubeproxy.SEPChain(servicePort(str(args[0]), str(args[1]), str(args[2]), str(args[3])), str(args[4])))
			}))),
		cel.Function("blockOwner", cel.Overload("block_owner_string_list", []*cel.Type{cel.StringType, cel.ListType(cel.MapType(cel.StringType, cel.DynType))}, cel.StringType,
			cel.BinaryBinding(func(a, l ref.Val) ref.Val {
				return types.String(blockOwner(str(a), l))
			}))),
		cel.Function("caliName", cel.Overload("cali_name_string_string", []*cel.Type{cel.StringType, cel.StringType}, cel.StringType,
			cel.BinaryBinding(func(a, b ref.Val) ref.Val {
				return types.String(netview.VethName(netview.DefaultInterfacePrefix, str(a), str(b)))
			}))),
	}
}

func celType(t string) *cel.Type {
	switch t {
	case "string":
		return cel.StringType
	case "int":
		return cel.IntType
	case "bool":
		return cel.BoolType
	case "list(string)":
		return cel.ListType(cel.StringType)
	case "list(map)":
		return cel.ListType(cel.MapType(cel.StringType, cel.DynType))
	case "map(string, string)":
		return cel.MapType(cel.StringType, cel.StringType)
	case "map(string, map)":
		return cel.MapType(cel.StringType, cel.MapType(cel.StringType, cel.DynType))
	}
	return cel.DynType
}

// exprs are a pack's compiled expressions: the environments its steps'
// questions and its lab checks compile in, and its derived values.
type exprs struct {
	base      *cel.Env // the facts every expression reads, and the derived values
	checks    *cel.Env // base and the facts only lab checks read
	derived   []derivedProg
	lab       []compiledCheck
	questions map[StepID]*question

	mu       sync.Mutex
	lastVars Vars
	last     map[string]any
}

// question is a step's question, compiled.
type question struct {
	answer cel.Program
	wrong  []cel.Program
}

type derivedProg struct {
	name string
	prog cel.Program
}

type compiledCheck struct {
	LabCheck
	rules []compiledRule
}

type compiledRule struct {
	loopVar string
	list    cel.Program // nil without "for"
	cases   []compiledCase
}

type compiledCase struct {
	fail cel.Program
	say  *tmpl
}

// The environments hold only podlab's facts and functions, the same for
// every pack: made once, each pack extends them with its derived values.
var (
	baseEnv  = sync.OnceValues(func() (*cel.Env, error) { return makeEnv(false) })
	checkEnv = sync.OnceValues(func() (*cel.Env, error) { return makeEnv(true) })
)

func newEnv(checks bool) (*cel.Env, error) {
	if checks {
		return checkEnv()
	}
	return baseEnv()
}

func makeEnv(checks bool) (*cel.Env, error) {
	opts := append(celFunctions(), cel.ParserExpressionSizeLimit(MaxExprBytes), cel.ParserRecursionLimit(64))
	for _, f := range facts {
		if f.In == "all" || checks && f.In == "checks" {
			opts = append(opts, cel.Variable(f.Name, celType(f.Type)))
		}
	}
	return cel.NewEnv(opts...)
}

// compile checks one expression in env; the error names file and line.
func compile(env *cel.Env, file string, e Expr, want *cel.Type, costLimit uint64) (cel.Program, error) {
	line := max(e.Line, 1)
	if strings.TrimSpace(e.Text) == "" {
		return nil, fmt.Errorf("%s:%d: empty expression", file, line)
	}
	if len(e.Text) > MaxExprBytes {
		return nil, fmt.Errorf("%s:%d: expression longer than %d bytes", file, line, MaxExprBytes)
	}
	ast, iss := env.Compile(e.Text)
	if iss != nil && iss.Err() != nil {
		errs := iss.Errors()
		msg := iss.Err().Error()
		if len(errs) > 0 {
			msg = errs[0].Message
		}
		return nil, fmt.Errorf("%s:%d: %s: %s", file, line, clean(e.Text), clean(msg))
	}
	if want != nil && !ast.OutputType().IsAssignableType(want) && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("%s:%d: %s is %s, want %s", file, line, clean(e.Text), ast.OutputType(), want)
	}
	prog, err := env.Program(ast, cel.CostLimit(costLimit), cel.InterruptCheckFrequency(64))
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %s: %v", file, line, clean(e.Text), err)
	}
	return prog, nil
}

// compileManifest compiles the manifest's derived values and lab checks.
func compileManifest(pk *Pack, file string) (*exprs, []error) {
	var errs []error
	x := &exprs{questions: map[StepID]*question{}}
	base, err := newEnv(false)
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", file, err)}
	}
	checks, err := newEnv(true)
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", file, err)}
	}
	for _, d := range pk.Derived {
		if !identifier(d.Name) {
			errs = append(errs, fmt.Errorf("%s:%d: derived value %q: a name of letters and digits", file, max(d.Expr.Line, 1), clean(d.Name)))
			continue
		}
		if _, ok := factNamed(d.Name); ok {
			errs = append(errs, fmt.Errorf("%s:%d: derived value %q has a fact's name", file, max(d.Expr.Line, 1), d.Name))
			continue
		}
		prog, err := compile(base, file, d.Expr, nil, ValueCostLimit)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ast, _ := base.Compile(d.Expr.Text)
		x.derived = append(x.derived, derivedProg{d.Name, prog})
		if base, err = base.Extend(cel.Variable(d.Name, ast.OutputType())); err != nil {
			return nil, []error{err}
		}
		if checks, err = checks.Extend(cel.Variable(d.Name, ast.OutputType())); err != nil {
			return nil, []error{err}
		}
	}
	x.base, x.checks = base, checks
	names := map[string]bool{}
	for _, c := range pk.Checks {
		if !identifierDash(c.Name) || names[c.Name] {
			errs = append(errs, fmt.Errorf("%s:%d: check %q: a unique name of letters, digits and dashes", file, max(c.Line, 1), clean(c.Name)))
			continue
		}
		names[c.Name] = true
		cc := compiledCheck{LabCheck: c}
		for _, r := range c.Rules {
			cr, err := compileRule(checks, file, r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			cc.rules = append(cc.rules, cr)
		}
		x.lab = append(x.lab, cc)
	}
	return x, errs
}

func compileRule(env *cel.Env, file string, r CheckRule) (compiledRule, error) {
	var cr compiledRule
	cases := r.Cases
	if len(cases) == 0 {
		cases = []CheckCase{{Fail: r.Fail, Say: r.Say, Line: r.Line}}
	} else if r.Fail.Text != "" || r.Say != "" {
		return cr, fmt.Errorf("%s:%d: a rule has either fail and say, or cases", file, max(r.Line, 1))
	}
	if r.For != "" {
		v, list, ok := strings.Cut(r.For, " in ")
		v = strings.TrimSpace(v)
		if !ok || !identifier(v) {
			return cr, fmt.Errorf("%s:%d: for: want \"NAME in LIST\", got %q", file, max(r.Line, 1), clean(r.For))
		}
		prog, err := compile(env, file, Expr{Text: list, Line: r.Line}, nil, ExprCostLimit)
		if err != nil {
			return cr, err
		}
		cr.loopVar, cr.list = v, prog
		if env, err = env.Extend(cel.Variable(v, cel.DynType)); err != nil {
			return cr, err
		}
	}
	for _, c := range cases {
		line := max(c.Line, r.Line, 1)
		fail := c.Fail
		if fail.Line == 0 {
			fail.Line = line
		}
		prog, err := compile(env, file, fail, cel.BoolType, ExprCostLimit)
		if err != nil {
			return cr, err
		}
		say, err := parseTemplate("say", c.Say, true)
		if err != nil {
			return cr, fmt.Errorf("%s:%d: say: %v", file, line, templateError("say", err))
		}
		if strings.TrimSpace(c.Say) == "" {
			return cr, fmt.Errorf("%s:%d: a failing check must say what is missing (say:)", file, line)
		}
		cr.cases = append(cr.cases, compiledCase{fail: prog, say: say})
	}
	return cr, nil
}

func identifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func identifierDash(s string) bool {
	return s != "" && identifier(strings.ReplaceAll(s, "-", "_"))
}

// eval runs one program with the time limit; an error reads as one line.
func eval(p cel.Program, act map[string]any) (ref.Val, error) {
	return evalCtx(context.Background(), p, act)
}

// evalCtx is eval within ctx's deadline as well.
func evalCtx(ctx context.Context, p cel.Program, act map[string]any) (ref.Val, error) {
	ctx, cancel := context.WithTimeout(ctx, ExprTimeout)
	defer cancel()
	out, _, err := p.ContextEval(ctx, act)
	if err != nil {
		return nil, fmt.Errorf("%s", clean(err.Error()))
	}
	return out, nil
}

// activation is what an expression reads of v: every fact, then the
// pack's derived values in order. The last one is kept, so a refresh's
// derived values are worked out once however often its text is drawn;
// each caller gets its own copy to add to.
func (x *exprs) activation(v *Vars) map[string]any {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.last != nil && x.lastVars == *v {
		return maps.Clone(x.last)
	}
	act := make(map[string]any, len(facts)+len(x.derived)+4)
	for _, f := range facts {
		if f.field != nil {
			act[f.Name] = celValue(v, f)
		}
	}
	for _, f := range extraFacts {
		act[f.Name] = extraFactOf(v.Extra, f)
	}
	x.derive(act)
	x.lastVars, x.last = *v, act
	return maps.Clone(act)
}

// derive adds the derived values; one that fails reads as its zero.
func (x *exprs) derive(act map[string]any) {
	for _, d := range x.derived {
		if out, err := eval(d.prog, act); err == nil {
			act[d.name] = out.Value()
		} else {
			act[d.name] = ""
		}
	}
}

// compileQuestion compiles a step's answer and wrong-answer conditions.
func (x *exprs) compileQuestion(st *Step) error {
	if st.AnswerExpr == "" || st.Compare == "" || x.base == nil {
		return nil
	}
	prog, err := compile(x.base, "", Expr{Text: st.AnswerExpr, Line: 1}, comparisons[st.Compare].typ, ValueCostLimit)
	if err != nil {
		return fmt.Errorf("answer: %s", strings.TrimPrefix(err.Error(), ":1: "))
	}
	q := &question{answer: prog}
	env, err := x.base.Extend(cel.Variable("got", cel.DynType), cel.Variable("want", cel.StringType))
	if err != nil {
		return err
	}
	for _, w := range st.Wrong {
		p, err := compile(env, "", Expr{Text: w.When, Line: 1}, cel.BoolType, ValueCostLimit)
		if err != nil {
			return fmt.Errorf("wrong: %s", strings.TrimPrefix(err.Error(), ":1: "))
		}
		q.wrong = append(q.wrong, p)
	}
	x.questions[st.Pos()] = q
	return nil
}

func servicePort(ns, name, port, proto string) kubeproxy.ServicePort {
	return kubeproxy.ServicePort{Namespace: ns, Name: name, Port: port, Protocol: proto}
}

// blockOwner is the node of the first block in blocks (Blocks' maps)
// that holds addr, an address or a prefix.
func blockOwner(addr string, blocks ref.Val) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		p, perr := netip.ParsePrefix(addr)
		if perr != nil {
			return ""
		}
		a = p.Addr()
	}
	lister, ok := blocks.(traits.Lister)
	if !ok {
		return ""
	}
	for it := lister.Iterator(); it.HasNext() == types.True; {
		m, ok := it.Next().(traits.Mapper)
		if !ok {
			continue
		}
		cidr, node := m.Get(types.String("cidr")), m.Get(types.String("node"))
		p, err := netip.ParsePrefix(fmt.Sprint(cidr.Value()))
		if err == nil && p.Contains(a) {
			n, _ := node.Value().(string)
			return n
		}
	}
	return ""
}
