// Package pipeline is the model of a SparkPipeline: a DAG of Spark jobs written in YAML, as
// users of Argo Workflows and Airflow write theirs. Read parses a pipeline file (its tasks'
// SparkApplication manifests given by path, relative to the file, or inline); Check names every
// problem of a pipeline before anything starts.
package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/k8s/job"
)

// APIVersion and Kind of a pipeline file.
const (
	APIVersion = "kindling.dev/v1alpha1"
	Kind       = "SparkPipeline"
)

// MaxTasks bounds a pipeline: each task is a child workflow, and Temporal advises at most
// 1,000 children per parent.
const MaxTasks = 500

// Spec is a pipeline, with every task's job read in: what the Pipeline workflow runs.
type Spec struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Parallelism bounds how many tasks run at once; 0 means no bound.
	Parallelism int `json:"parallelism,omitempty"`
	// FailFast (default true): once a task fails, no new task starts; running ones finish.
	FailFast *bool  `json:"failFast,omitempty"`
	Tasks    []Task `json:"tasks"`
	// OnExit runs last, whatever happened (also after a cancel); its driver sees the pipeline's
	// state in the environment variable KINDLING_PIPELINE_STATUS.
	OnExit *Task `json:"onExit,omitempty"`
	// Schedule, when set, runs the pipeline on a Temporal Schedule (`kindling schedule
	// apply`), with the fields of a ScheduledSparkApplication (its template unused) and
	// Kindling's schedule settings as metadata annotations.
	Schedule    *job.ScheduledSparkApplicationSpec `json:"schedule,omitempty"`
	Annotations map[string]string                  `json:"annotations,omitempty"`
}

// Task is one Spark job of a pipeline.
type Task struct {
	Name string `json:"name"`
	// Dependencies are the tasks that must succeed (or be skipped by their `when`) first; a
	// task whose dependency failed or was omitted is omitted. The same as Depends "a && b".
	Dependencies []string `json:"dependencies,omitempty"`
	// Depends, instead of Dependencies, is an Argo-style expression over the results of other
	// tasks ("a && (b.Failed || c.Skipped)"): the task waits for every task it names and runs
	// only if the expression is true, else it is omitted.
	Depends string `json:"depends,omitempty"`
	// When, once the task's dependencies allow it, decides whether it runs ("{{
	// tasks.count.outputs.rows }} > 0"); false skips it.
	When string `json:"when,omitempty"`
	// Retries re-runs a failed task that many times, each a new job, on top of the job's own
	// restart policy.
	Retries int         `json:"retries,omitempty"`
	Job     job.JobSpec `json:"job"`
}

// FailsFast tells whether a failed task stops new ones (the default).
func (s *Spec) FailsFast() bool { return s.FailFast == nil || *s.FailFast }

// file is a pipeline file as written.
type file struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	} `json:"metadata"`
	Spec struct {
		// A ScheduledSparkApplication's fields, for a pipeline on a schedule.
		Schedule          string `json:"schedule,omitempty"`
		TimeZone          string `json:"timeZone,omitempty"`
		ConcurrencyPolicy string `json:"concurrencyPolicy,omitempty"`
		Suspend           *bool  `json:"suspend,omitempty"`

		Parallelism int        `json:"parallelism,omitempty"`
		FailFast    *bool      `json:"failFast,omitempty"`
		Tasks       []fileTask `json:"tasks"`
		OnExit      *fileTask  `json:"onExit,omitempty"`
	} `json:"spec"`
}

type fileTask struct {
	Name         string      `json:"name"`
	Dependencies []string    `json:"dependencies,omitempty"`
	Depends      string      `json:"depends,omitempty"`
	When         string      `json:"when,omitempty"`
	Retries      int         `json:"retries,omitempty"`
	Application  application `json:"application"`
}

// application is a task's job: a SparkApplication manifest's path (absolute, or relative to
// the pipeline file), or the manifest (or bare spec) inline.
type application struct {
	File     string          `json:"file,omitempty"`
	Manifest json.RawMessage `json:"manifest,omitempty"`
}

// Read reads a pipeline file at path. Problems in the file (an unreadable task manifest, an
// unknown field) come back as one error listing them all, each at its field.
func Read(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pipeline: %w", err)
	}
	var f file
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("read pipeline %s: %w", path, err)
	}
	var errs field.ErrorList
	if f.APIVersion != APIVersion || f.Kind != Kind {
		errs = append(errs, job.Invalid(field.NewPath("kind"), "want apiVersion %s and kind %s, got %s %s", APIVersion, Kind, f.APIVersion, f.Kind))
	}
	s := &Spec{Name: f.Metadata.Name, Namespace: f.Metadata.Namespace, Parallelism: f.Spec.Parallelism, FailFast: f.Spec.FailFast,
		Annotations: f.Metadata.Annotations}
	if f.Spec.Schedule != "" {
		s.Schedule = &job.ScheduledSparkApplicationSpec{Schedule: f.Spec.Schedule, TimeZone: f.Spec.TimeZone,
			ConcurrencyPolicy: f.Spec.ConcurrencyPolicy, Suspend: f.Spec.Suspend}
	} else if f.Spec.TimeZone != "" || f.Spec.ConcurrencyPolicy != "" || f.Spec.Suspend != nil {
		errs = append(errs, job.Invalid(field.NewPath("spec", "schedule"), "is required with timeZone, concurrencyPolicy or suspend"))
	}
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	dir := filepath.Dir(path)
	read := func(at *field.Path, t fileTask) Task {
		out := Task{Name: t.Name, Dependencies: t.Dependencies, Depends: t.Depends, When: t.When, Retries: t.Retries}
		spec, err := readApplication(dir, t.Application)
		if err != nil {
			errs = append(errs, job.Invalid(at.Child("application"), "%v", err))
			return out
		}
		out.Job = *spec
		return out
	}
	tasks := field.NewPath("spec", "tasks")
	for i, t := range f.Spec.Tasks {
		s.Tasks = append(s.Tasks, read(tasks.Index(i), t))
	}
	if f.Spec.OnExit != nil {
		t := read(field.NewPath("spec", "onExit"), *f.Spec.OnExit)
		if t.Name == "" {
			t.Name = "on-exit"
		}
		s.OnExit = &t
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", path, Errors(errs))
	}
	return s, nil
}

func readApplication(dir string, a application) (*job.JobSpec, error) {
	switch {
	case a.File != "" && len(a.Manifest) > 0:
		return nil, fmt.Errorf("give file or manifest, not both")
	case a.File != "":
		path := a.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return job.Read(data)
	case len(a.Manifest) > 0:
		return job.Read(bytes.TrimSpace(a.Manifest))
	}
	return nil, fmt.Errorf("is required: file (a SparkApplication manifest, relative to the pipeline file) or manifest (inline)")
}

// Errors is the error listing a pipeline's problems ("invalid pipeline (2 problems): …"), or
// nil when there are none.
func Errors(list field.ErrorList) error {
	err := job.Errors(list)
	if v, ok := err.(*job.ValidationError); ok {
		v.What = "pipeline"
	}
	return err
}

// Check names every problem of a pipeline: names, duplicates, unknown dependencies, cycles,
// the size bound, and every rule a task's job breaks (problems reports those, at the task's
// path: render.Problems, kept out of this package so it stays a model).
func Check(s *Spec, problems func(*job.JobSpec) field.ErrorList) field.ErrorList {
	var errs field.ErrorList
	add := func(p *field.Path, format string, args ...any) { errs = append(errs, job.Invalid(p, format, args...)) }
	meta := field.NewPath("metadata")
	if s.Name == "" {
		add(meta.Child("name"), "is required")
	}
	for _, msg := range validation.IsDNS1123Label(s.Namespace) {
		add(meta.Child("namespace"), "must be a DNS-1123 label: %s", msg)
	}
	if s.Parallelism < 0 {
		add(field.NewPath("spec", "parallelism"), "must be 0 (no bound) or more, got %d", s.Parallelism)
	}
	tasks := field.NewPath("spec", "tasks")
	if len(s.Tasks) == 0 {
		add(tasks, "a pipeline needs at least one task")
	}
	if len(s.Tasks) > MaxTasks {
		add(tasks, "%d tasks is more than %d: split the pipeline (each task is a child workflow)", len(s.Tasks), MaxTasks)
	}
	index := map[string]int{}
	for i, t := range s.Tasks {
		at := tasks.Index(i)
		for _, msg := range validation.IsDNS1123Label(t.Name) {
			add(at.Child("name"), "must be a DNS-1123 label: %s", msg)
		}
		if j, dup := index[t.Name]; dup {
			add(at.Child("name"), "%q is also the name of task %d", t.Name, j)
		} else {
			index[t.Name] = i
		}
		if t.Retries < 0 {
			add(at.Child("retries"), "must be 0 or more, got %d", t.Retries)
		}
	}
	for i, t := range s.Tasks {
		at := tasks.Index(i)
		if t.Depends != "" && len(t.Dependencies) > 0 {
			add(at.Child("depends"), "give dependencies or depends, not both (dependencies [a, b] is depends \"a && b\")")
		}
		if t.Depends != "" {
			if d, err := ParseDepends(t.Depends); err != nil {
				add(at.Child("depends"), "%v", err)
			} else {
				for _, n := range d.Tasks() {
					if _, ok := index[n]; !ok {
						add(at.Child("depends"), "unknown task %q", n)
					} else if n == t.Name {
						add(at.Child("depends"), "a task cannot depend on itself")
					}
				}
			}
		}
		for j, d := range t.Dependencies {
			if _, ok := index[d]; !ok {
				add(at.Child("dependencies").Index(j), "unknown task %q", d)
			} else if d == t.Name {
				add(at.Child("dependencies").Index(j), "a task cannot depend on itself")
			}
		}
	}
	cycle := findCycle(s.Tasks, index)
	if len(cycle) > 0 {
		add(tasks, "the dependencies form a cycle: %s", strings.Join(cycle, " → "))
	}
	if s.OnExit != nil && (len(s.OnExit.Dependencies) > 0 || s.OnExit.Depends != "" || s.OnExit.When != "") {
		add(field.NewPath("spec", "onExit"), "runs after every task, whatever happened: it takes no dependencies, depends or when")
	}

	// Templates that name a task ({{ tasks.a.outputs.rows }}, {{ tasks.a.status }}) must name
	// a task that has ended before this one starts: one upstream of it. The exit task runs
	// last and may name any.
	var upstream func(string) map[string]bool
	if len(cycle) == 0 {
		upstream = ancestors(s.Tasks, index)
	}
	checkRef := func(at *field.Path, from, name string, exit bool) {
		r, ok, err := ParseTaskRef(name)
		switch {
		case err != nil:
			add(at, "%v", err)
		case !ok:
			if !slices.Contains(job.Templates, name) {
				add(at, "unknown template {{ %s }}: the names are %s, tasks.NAME.outputs.KEY and tasks.NAME.status", name, strings.Join(job.Templates, ", "))
			}
		case !hasTask(index, r.Task):
			add(at, "{{ %s }}: unknown task %q", name, r.Task)
		case !exit && upstream != nil && !upstream(from)[r.Task]:
			add(at, "{{ %s }}: task %s is not upstream of %s, so it may not have ended when %s starts: add it to %s's dependencies (or depends)", name, r.Task, from, from, from)
		}
	}
	all := append([]Task{}, s.Tasks...)
	paths := []*field.Path{}
	for i := range s.Tasks {
		paths = append(paths, tasks.Index(i))
	}
	if s.OnExit != nil {
		all = append(all, *s.OnExit)
		paths = append(paths, field.NewPath("spec", "onExit"))
	}
	for i, t := range all {
		exit := s.OnExit != nil && i == len(all)-1
		if t.When != "" && !exit {
			if w, err := ParseWhen(t.When); err != nil {
				add(paths[i].Child("when"), "%v", err)
			} else {
				for _, name := range w.Templates() {
					checkRef(paths[i].Child("when"), t.Name, name, false)
				}
			}
		}
		job.EachTemplate(&t.Job, func(p *field.Path, name string) {
			if strings.HasPrefix(name, "tasks.") {
				checkRef(field.NewPath(paths[i].Child("application").String()+"."+p.String()), t.Name, name, exit)
			}
		})
	}
	for i, t := range all {
		// A task's templates are filled when it starts; its job's rules see their names.
		spec := job.ReplaceTemplates(&t.Job, func(name string) (string, bool) {
			return name, strings.HasPrefix(name, "tasks.")
		})
		job.Default(spec)
		for _, e := range problems(spec) {
			e.Field = paths[i].Child("application").String() + "." + e.Field
			errs = append(errs, e)
		}
	}
	return errs
}

func hasTask(index map[string]int, name string) bool {
	_, ok := index[name]
	return ok
}

// Upstream names the tasks a task waits for: its dependencies, or the tasks its depends
// expression names. A depends that does not parse names none (Check reports it).
func (t *Task) Upstream() []string {
	if t.Depends == "" {
		return t.Dependencies
	}
	d, err := ParseDepends(t.Depends)
	if err != nil {
		return nil
	}
	return d.Tasks()
}

// Parsed are a checked pipeline's expressions, parsed once for a run.
type Parsed struct {
	Depends  map[string]*Depends // by task; none for a task with dependencies
	When     map[string]*When    // by task; none for a task without one
	Upstream map[string][]string // the tasks each waits for
	// Handled are the tasks whose failure some depends names with NAME.Failed (not negated):
	// the pipeline expects it, so it neither stops new tasks (failFast) nor fails the run.
	Handled map[string]bool
}

// Parse parses every task's depends and when. Expressions that do not parse are left out
// (Check reports them before a run starts).
func (s *Spec) Parse() *Parsed {
	p := &Parsed{Depends: map[string]*Depends{}, When: map[string]*When{}, Upstream: map[string][]string{}, Handled: map[string]bool{}}
	for _, t := range s.Tasks {
		p.Upstream[t.Name] = t.Dependencies
		if t.Depends != "" {
			if d, err := ParseDepends(t.Depends); err == nil {
				p.Depends[t.Name], p.Upstream[t.Name] = d, d.Tasks()
				for _, f := range d.failed {
					p.Handled[f] = true
				}
			}
		}
		if t.When != "" {
			if w, err := ParseWhen(t.When); err == nil {
				p.When[t.Name] = w
			}
		}
	}
	return p
}

// UsesDates tells whether the task names one of the run's dates ({{ ds }}, …) in its job or
// its when: only then does the run need dates (task templates are filled from other tasks).
func (t *Task) UsesDates() bool {
	uses := false
	job.EachTemplate(&t.Job, func(_ *field.Path, name string) {
		uses = uses || !strings.HasPrefix(name, "tasks.")
	})
	if w, err := ParseWhen(t.When); t.When != "" && err == nil {
		for _, name := range w.Templates() {
			uses = uses || slices.Contains(job.Templates, name)
		}
	}
	return uses
}

// ancestors returns, for a task's name, every task upstream of it, transitively. The
// dependencies must not form a cycle.
func ancestors(tasks []Task, index map[string]int) func(string) map[string]bool {
	memo := map[string]map[string]bool{}
	var of func(string) map[string]bool
	of = func(name string) map[string]bool {
		if m, ok := memo[name]; ok {
			return m
		}
		m := map[string]bool{}
		memo[name] = m
		i, ok := index[name]
		if !ok {
			return m
		}
		for _, d := range tasks[i].Upstream() {
			if d == name {
				continue
			}
			m[d] = true
			for a := range of(d) {
				m[a] = true
			}
		}
		return m
	}
	return of
}

// Downstream returns the named tasks and every task downstream of them, transitively.
func (s *Spec) Downstream(names ...string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	for changed := true; changed; {
		changed = false
		for i := range s.Tasks {
			t := &s.Tasks[i]
			if out[t.Name] {
				continue
			}
			for _, d := range t.Upstream() {
				if out[d] {
					out[t.Name], changed = true, true
					break
				}
			}
		}
	}
	return out
}

// findCycle returns one cycle of task names (first name repeated last), or nil.
func findCycle(tasks []Task, index map[string]int) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(tasks))
	var path []string
	var visit func(i int) []string
	visit = func(i int) []string {
		state[i] = onPath
		path = append(path, tasks[i].Name)
		deps := append([]string{}, tasks[i].Upstream()...)
		sort.Strings(deps)
		for _, d := range deps {
			j, ok := index[d]
			if !ok || d == tasks[i].Name {
				continue
			}
			switch state[j] {
			case onPath:
				for k, n := range path {
					if n == d {
						return append(append([]string{}, path[k:]...), d)
					}
				}
			case unseen:
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return nil
	}
	for i := range tasks {
		if state[i] == unseen {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}
