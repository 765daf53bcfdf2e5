package pipeline

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/kindling-dev/kindling/k8s/job"
)

// Task results a `depends` expression tests, as Argo Workflows names them.
const (
	ResultSucceeded = "Succeeded" // the task's job completed
	ResultFailed    = "Failed"    // its job failed (after its retries), was cancelled, or could not start
	ResultSkipped   = "Skipped"   // its `when` was false
	ResultOmitted   = "Omitted"   // its `depends` was false, or the pipeline stopped before it
)

var results = []string{ResultSucceeded, ResultFailed, ResultSkipped, ResultOmitted}

// Depends is a parsed `depends` expression: task results joined by &&, || and !, with
// parentheses. A bare task name means NAME.Succeeded || NAME.Skipped, as in Argo, so
// `dependencies: [a, b]` is `depends: "a && b"`.
type Depends struct {
	root   node
	tasks  []string // in the order they appear, each once
	failed []string // the tasks it tests with NAME.Failed
}

// TestsFailure tells whether the expression names task.Failed (not negated): it expects, and
// so handles, that task's failure.
func (d *Depends) TestsFailure(task string) bool { return contains(d.failed, task) }

// Tasks are the tasks the expression names: the task waits until each of them has ended.
func (d *Depends) Tasks() []string { return d.tasks }

// Eval evaluates the expression with each named task's result (one of the Result* names).
func (d *Depends) Eval(result func(task string) string) bool {
	return d.root.eval(result)
}

type node interface {
	eval(result func(string) string) bool
}

type (
	ref struct{ task, result string } // result "" is the bare form
	not struct{ x node }
	and struct{ l, r node }
	or  struct{ l, r node }
)

func (n ref) eval(r func(string) string) bool {
	got := r(n.task)
	if n.result == "" {
		return got == ResultSucceeded || got == ResultSkipped
	}
	return got == n.result
}
func (n not) eval(r func(string) string) bool { return !n.x.eval(r) }
func (n and) eval(r func(string) string) bool { return n.l.eval(r) && n.r.eval(r) }
func (n or) eval(r func(string) string) bool  { return n.l.eval(r) || n.r.eval(r) }

var dependsToken = regexp.MustCompile(`^(?:\s+|&&|\|\||!|\(|\)|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[A-Za-z]+)?)`)

// ParseDepends parses a `depends` expression. Errors say where and what was expected.
func ParseDepends(s string) (*Depends, error) {
	toks, err := tokenize(s, dependsToken, "a task name, NAME.Result ("+strings.Join(results, ", ")+"), &&, ||, ! or parentheses")
	if err != nil {
		return nil, err
	}
	p := &dependsParser{toks: toks, seen: map[string]bool{}}
	if len(toks) == 0 {
		return nil, fmt.Errorf("is empty")
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(toks) {
		return nil, fmt.Errorf("unexpected %q after a whole expression", toks[p.i])
	}
	return &Depends{root: root, tasks: p.tasks, failed: p.failed}, nil
}

type dependsParser struct {
	toks   []string
	i      int
	tasks  []string
	seen   map[string]bool
	failed []string
	neg    bool // under an odd number of !: NAME.Failed there does not expect the failure
}

func (p *dependsParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *dependsParser) or() (node, error) {
	return leftAssoc(p.peek, func() { p.i++ }, "||", p.and, func(l, r node) node { return or{l, r} })
}

func (p *dependsParser) and() (node, error) {
	return leftAssoc(p.peek, func() { p.i++ }, "&&", p.unary, func(l, r node) node { return and{l, r} })
}

// tokenize splits s into the tokens re matches at its start, dropping spaces; want says what
// was expected where nothing matches.
func tokenize(s string, re *regexp.Regexp, want string) ([]string, error) {
	var toks []string
	for rest := s; rest != ""; {
		m := re.FindString(rest)
		if m == "" {
			return nil, fmt.Errorf("unexpected %q at %q: want %s", rest[:1], rest, want)
		}
		if strings.TrimSpace(m) != "" {
			toks = append(toks, m)
		}
		rest = rest[len(m):]
	}
	return toks, nil
}

// leftAssoc parses next (op next)… and joins the parts from the left: both grammars' && and ||.
func leftAssoc[N any](peek func() string, advance func(), op string, next func() (N, error), join func(l, r N) N) (N, error) {
	l, err := next()
	for err == nil && peek() == op {
		advance()
		var r N
		if r, err = next(); err == nil {
			l = join(l, r)
		}
	}
	return l, err
}

func (p *dependsParser) unary() (node, error) {
	switch t := p.peek(); t {
	case "":
		return nil, fmt.Errorf("ends too soon: want a task after %q", p.toks[len(p.toks)-1])
	case "!":
		p.i++
		p.neg = !p.neg
		x, err := p.unary()
		p.neg = !p.neg
		return not{x}, err
	case "(":
		p.i++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("a ( is not closed")
		}
		p.i++
		return x, nil
	case ")", "&&", "||":
		return nil, fmt.Errorf("unexpected %q: want a task", t)
	default:
		p.i++
		name, result, _ := strings.Cut(t, ".")
		if result != "" && !contains(results, result) {
			why := ""
			switch result {
			case "Errored":
				why = " (a task that could not start or was cancelled is Failed)"
			case "Daemoned", "AnySucceeded", "AllFailed":
				why = " (Kindling's tasks are single Spark jobs)"
			}
			return nil, fmt.Errorf("%s: unknown result %s%s: the results are %s", t, result, why, strings.Join(results, ", "))
		}
		if !p.seen[name] {
			p.seen[name] = true
			p.tasks = append(p.tasks, name)
		}
		if result == ResultFailed && !p.neg && !contains(p.failed, name) {
			p.failed = append(p.failed, name)
		}
		return ref{name, result}, nil
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// When is a parsed `when` condition: comparisons (==, !=, <, <=, >, >=) of values joined by
// &&, || and !, with parentheses. A value is a number, a quoted or bare word, true/false, or a
// template `{{ … }}` filled in when the task is ready (an upstream task's output or status,
// the run's dates). Two values that both read as numbers compare as numbers, others as text.
type When struct {
	root wnode
	refs []string // the templates' names, in order
}

// Templates are the names of the templates the condition uses.
func (w *When) Templates() []string { return w.refs }

// Eval evaluates the condition with each template's value. An error (a value that is not
// true or false where && wants one) is the task's failure.
func (w *When) Eval(value func(name string) string) (bool, error) {
	v, err := w.root.eval(value)
	if err != nil {
		return false, err
	}
	return v.bool()
}

type wvalue struct {
	text   string
	isBool bool
	b      bool
}

func (v wvalue) bool() (bool, error) {
	if v.isBool {
		return v.b, nil
	}
	switch v.text {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v.text)
}

type wnode interface {
	eval(value func(string) string) (wvalue, error)
}

type (
	wlit  struct{ text string }
	wtmpl struct{ name string }
	wnot  struct{ x wnode }
	wbin  struct {
		op   string
		l, r wnode
	}
)

func (n wlit) eval(func(string) string) (wvalue, error) { return wvalue{text: n.text}, nil }

// wstr is quoted text, in which templates are filled: '{{ tasks.a.outputs.mode }}' == full.
type wstr struct{ text string }

func (n wstr) eval(v func(string) string) (wvalue, error) {
	return wvalue{text: job.ReplaceIn(n.text, func(name string) (string, bool) { return v(name), true })}, nil
}
func (n wtmpl) eval(v func(string) string) (wvalue, error) { return wvalue{text: v(n.name)}, nil }
func (n wnot) eval(v func(string) string) (wvalue, error) {
	x, err := n.x.eval(v)
	if err != nil {
		return x, err
	}
	b, err := x.bool()
	return wvalue{isBool: true, b: !b}, err
}

func (n wbin) eval(v func(string) string) (wvalue, error) {
	l, err := n.l.eval(v)
	if err != nil {
		return l, err
	}
	if n.op == "&&" || n.op == "||" {
		lb, err := l.bool()
		if err != nil {
			return l, err
		}
		if (n.op == "&&" && !lb) || (n.op == "||" && lb) {
			return wvalue{isBool: true, b: lb}, nil
		}
		r, err := n.r.eval(v)
		if err != nil {
			return r, err
		}
		rb, err := r.bool()
		return wvalue{isBool: true, b: rb}, err
	}
	r, err := n.r.eval(v)
	if err != nil {
		return r, err
	}
	ls, rs := l.String(), r.String()
	var c int
	lf, lerr := strconv.ParseFloat(ls, 64)
	rf, rerr := strconv.ParseFloat(rs, 64)
	switch {
	case lerr == nil && rerr == nil && finite(lf) && finite(rf): // NaN and Inf compare as text
		c = cmpFloat(lf, rf)
	default:
		c = strings.Compare(ls, rs)
	}
	var out bool
	switch n.op {
	case "==":
		out = c == 0
	case "!=":
		out = c != 0
	case "<":
		out = c < 0
	case "<=":
		out = c <= 0
	case ">":
		out = c > 0
	case ">=":
		out = c >= 0
	}
	return wvalue{isBool: true, b: out}, nil
}

func (v wvalue) String() string {
	if v.isBool {
		return strconv.FormatBool(v.b)
	}
	return v.text
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var whenToken = regexp.MustCompile(`^(?:\s+|&&|\|\||==|!=|<=|>=|<|>|!|\(|\)|\{\{\s*[^{}\s]+\s*\}\}|'[^']*'|"[^"]*"|[-+]?[0-9][0-9.eE+-]*|[A-Za-z_][-A-Za-z0-9_.:/]*)`)

// ParseWhen parses a `when` condition.
func ParseWhen(s string) (*When, error) {
	toks, err := tokenize(s, whenToken, "a value (number, word, 'text', {{ template }}), a comparison (== != < <= > >=), &&, ||, ! or parentheses")
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("is empty")
	}
	p := &whenParser{toks: toks}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(toks) {
		return nil, fmt.Errorf("unexpected %q after a whole condition", toks[p.i])
	}
	return &When{root: root, refs: p.refs}, nil
}

type whenParser struct {
	toks []string
	i    int
	refs []string
}

func (p *whenParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *whenParser) or() (wnode, error) {
	return leftAssoc(p.peek, func() { p.i++ }, "||", p.and, func(l, r wnode) wnode { return wbin{"||", l, r} })
}

func (p *whenParser) and() (wnode, error) {
	return leftAssoc(p.peek, func() { p.i++ }, "&&", p.cmp, func(l, r wnode) wnode { return wbin{"&&", l, r} })
}

func (p *whenParser) cmp() (wnode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	switch op := p.peek(); op {
	case "==", "!=", "<", "<=", ">", ">=":
		p.i++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		return wbin{op, l, r}, nil
	}
	return l, nil
}

func (p *whenParser) unary() (wnode, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("ends too soon: want a value after %q", p.toks[len(p.toks)-1])
	case t == "!":
		p.i++
		x, err := p.unary()
		return wnot{x}, err
	case t == "(":
		p.i++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("a ( is not closed")
		}
		p.i++
		return x, nil
	case t == ")" || t == "&&" || t == "||" || t == "==" || t == "!=" || t == "<" || t == "<=" || t == ">" || t == ">=":
		return nil, fmt.Errorf("unexpected %q: want a value", t)
	case strings.HasPrefix(t, "{{"):
		p.i++
		name := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(t, "{{"), "}}"))
		p.refs = append(p.refs, name)
		return wtmpl{name}, nil
	case strings.HasPrefix(t, "'") || strings.HasPrefix(t, `"`):
		p.i++
		text := t[1 : len(t)-1]
		p.refs = append(p.refs, job.TemplatesIn(text)...)
		return wstr{text}, nil
	}
	p.i++
	return wlit{t}, nil
}
