package pipeline_test

import (
	"strings"
	"testing"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/pipeline"
)

func TestDependsFollowsArgo(t *testing.T) {
	results := map[string]string{"a": pipeline.ResultSucceeded, "b": pipeline.ResultFailed, "c": pipeline.ResultSkipped, "d": pipeline.ResultOmitted}
	for expr, want := range map[string]bool{
		"a":                         true,
		"c":                         true, // bare: Succeeded || Skipped
		"d":                         false,
		"b":                         false,
		"b.Failed":                  true,
		"a && b":                    false,
		"a && (b.Failed || d)":      true,
		"!b.Failed":                 false,
		"!(a && c) || d.Omitted":    true,
		"a.Succeeded&&c.Skipped":    true,
		"d.Omitted && !c.Succeeded": true,
	} {
		d, err := pipeline.ParseDepends(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if got := d.Eval(func(task string) string { return results[task] }); got != want {
			t.Errorf("%s = %v, want %v", expr, got, want)
		}
	}
	d, _ := pipeline.ParseDepends("a && (b.Failed || a.Succeeded) && !c")
	if got := strings.Join(d.Tasks(), ","); got != "a,b,c" {
		t.Errorf("tasks %s", got)
	}
	if !d.TestsFailure("b") || d.TestsFailure("a") {
		t.Error("TestsFailure: b.Failed is named, a.Failed is not")
	}
	if d, _ := pipeline.ParseDepends("x && !a.Failed && !(!b.Failed)"); d.TestsFailure("a") || !d.TestsFailure("b") {
		t.Error("a negated a.Failed does not expect a's failure; a doubly negated b.Failed does")
	}
	for expr, want := range map[string]string{
		"":            "is empty",
		"a &&":        "ends too soon",
		"a b":         `unexpected "b" after a whole expression`,
		"(a || b":     "a ( is not closed",
		"a.Errored":   "unknown result Errored (a task that could not start or was cancelled is Failed)",
		"a.Done":      "the results are Succeeded, Failed, Skipped, Omitted",
		"a & b":       `unexpected "&"`,
		"a || && b":   `unexpected "&&": want a task`,
		"A.Succeeded": `unexpected "A"`,
		"a.AllFailed": "Kindling's tasks are single Spark jobs",
	} {
		_, err := pipeline.ParseDepends(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", expr, err, want)
		}
	}
}

func TestWhenComparesNumbersAsNumbersAndTextAsText(t *testing.T) {
	values := map[string]string{"tasks.a.outputs.rows": "120", "tasks.a.outputs.mode": "full", "ds": "2026-11-24", "tasks.a.status": "Succeeded"}
	for expr, want := range map[string]bool{
		"{{ tasks.a.outputs.rows }} > 0":                    true,
		"{{ tasks.a.outputs.rows }} > 99":                   true, // "120" > "99" as text is false
		"{{ tasks.a.outputs.rows }} == 120.0":               true,
		"'{{ tasks.a.outputs.mode }}' == full":              true,
		`"{{tasks.a.outputs.mode}}" != 'full'`:              false,
		"{{ ds }} >= 2026-11-01 && {{ ds }} < '2026-12-01'": true,
		"!({{ tasks.a.status }} == Succeeded) || false":     false,
		"true": true,
		"{{ tasks.a.outputs.rows }} <= 5 || {{ ds }} == 2026-11-24": true,
	} {
		w, err := pipeline.ParseWhen(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		got, err := w.Eval(func(name string) string { return values[name] })
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", expr, got, err, want)
		}
	}
	for _, nan := range []string{"NaN", "nan", "Inf"} {
		w, _ := pipeline.ParseWhen("{{ tasks.a.outputs.rate }} <= 0.01")
		if ok, err := w.Eval(func(string) string { return nan }); err != nil || ok {
			t.Errorf("%s <= 0.01 = %v, %v; NaN and Inf compare as text", nan, ok, err)
		}
	}
	w, _ := pipeline.ParseWhen("{{ tasks.a.outputs.mode }} && true")
	if _, err := w.Eval(func(string) string { return "full" }); err == nil || !strings.Contains(err.Error(), `"full" is not true or false`) {
		t.Errorf("a word where && wants true or false: %v", err)
	}
	for expr, want := range map[string]string{
		"a ==":       "ends too soon",
		"(a == b":    "a ( is not closed",
		"a == b c":   `unexpected "c"`,
		"a = b":      `unexpected "="`,
		"{{ }} == 1": `unexpected "{"`,
	} {
		if _, err := pipeline.ParseWhen(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", expr, err, want)
		}
	}
}

func TestParseOutputs(t *testing.T) {
	out, err := pipeline.ParseOutputs(`{"rows": 42, "path": "s3://x", "ok": true, "none": null, "parts": [1, 2]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"rows": "42", "path": "s3://x", "ok": "true", "none": "", "parts": "[1,2]"}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("%s = %q, want %q", k, out[k], v)
		}
	}
	if out, err := pipeline.ParseOutputs("  \n"); err != nil || out != nil {
		t.Errorf("empty message: %v %v", out, err)
	}
	for msg, want := range map[string]string{
		"42 rows":                             `must be a JSON object such as {"rows": 42}, got "42 rows"`,
		"[1]":                                 "must be a JSON object",
		`{"a b": 1}`:                          `has the key "a b"`,
		`{"x": "` + strings.Repeat("y", 4100): "reached 4096 bytes, the most Kubernetes keeps, and was cut",
	} {
		if _, err := pipeline.ParseOutputs(msg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.30q: got %v, want %q", msg, err, want)
		}
	}
}

func TestCheckNamesFlowProblems(t *testing.T) {
	tk := func(name string, deps ...string) pipeline.Task {
		return pipeline.Task{Name: name, Dependencies: deps, Job: job.JobSpec{Name: name, Namespace: "etl"}}
	}
	both := tk("both", "a")
	both.Depends = "a"
	badDepends := tk("bad-depends")
	badDepends.Depends = "a &&"
	ghost := tk("ghost")
	ghost.Depends = "a || nope.Failed"
	badWhen := tk("bad-when", "a")
	badWhen.When = "{{ tasks.a.outputs.rows }} >"
	notUp := tk("not-up")
	notUp.Job.Arguments = []string{"{{ tasks.a.outputs.rows }}"}
	notUpWhen := tk("not-up-when")
	notUpWhen.When = "{{ tasks.a.status }} == Succeeded"
	typo := tk("typo", "a")
	typo.When = "{{ tasks.a.output.rows }} > 0 && {{ dss }} == x"
	far := tk("far", "b")
	far.Job.SparkConf = map[string]string{"spark.rows": "{{ tasks.a.outputs.rows }}"} // a is upstream of b: fine
	exit := tk("exit", "a")
	exit.Job.Arguments = []string{"{{ tasks.far.status }}", "{{ tasks.nope.outputs.x }}"}
	s := &pipeline.Spec{Name: "nightly", Namespace: "etl", OnExit: &exit, Tasks: []pipeline.Task{
		tk("a"), tk("b", "a"), both, badDepends, ghost, badWhen, notUp, notUpWhen, typo, far,
	}}
	msg := job.Errors(pipeline.Check(s, noProblems)).Error()
	for _, want := range []string{
		`spec.tasks[2].depends: give dependencies or depends, not both`,
		`spec.tasks[3].depends: ends too soon`,
		`spec.tasks[4].depends: unknown task "nope"`,
		`spec.tasks[5].when: ends too soon`,
		`spec.tasks[6].application.spec.arguments[0]: {{ tasks.a.outputs.rows }}: task a is not upstream of not-up`,
		`spec.tasks[7].when: {{ tasks.a.status }}: task a is not upstream of not-up-when`,
		`spec.tasks[8].when: {{ tasks.a.output.rows }}: want {{ tasks.NAME.outputs.KEY }} or {{ tasks.NAME.status }}`,
		`spec.tasks[8].when: unknown template {{ dss }}`,
		`spec.onExit: runs after every task, whatever happened: it takes no dependencies, depends or when`,
		`spec.onExit.application.spec.arguments[1]: {{ tasks.nope.outputs.x }}: unknown task "nope"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
	for _, never := range []string{"tasks[9]", "arguments[0]: {{ tasks.far.status }}"} {
		if strings.Contains(msg, never) {
			t.Errorf("problems name %q, which is fine:\n%s", never, msg)
		}
	}
}

func TestDownstreamFollowsDependsToo(t *testing.T) {
	s := &pipeline.Spec{Tasks: []pipeline.Task{
		{Name: "a"}, {Name: "b", Dependencies: []string{"a"}}, {Name: "c", Depends: "b.Failed || x"}, {Name: "x"}, {Name: "d", Dependencies: []string{"x"}},
	}}
	got := s.Downstream("b")
	if len(got) != 2 || !got["b"] || !got["c"] {
		t.Errorf("downstream of b: %v", got)
	}
}
