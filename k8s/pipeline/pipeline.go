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
	// Dependencies are the tasks that must succeed first; a task whose dependency failed or
	// was skipped is skipped.
	Dependencies []string `json:"dependencies,omitempty"`
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
	Retries      int         `json:"retries,omitempty"`
	Application  application `json:"application"`
}

// application is a task's job: a SparkApplication manifest's path, relative to the pipeline
// file, or the manifest (or bare spec) inline.
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
		out := Task{Name: t.Name, Dependencies: t.Dependencies, Retries: t.Retries}
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
		return nil, fmt.Errorf("%s: %w", path, job.Errors(errs))
	}
	return s, nil
}

func readApplication(dir string, a application) (*job.JobSpec, error) {
	switch {
	case a.File != "" && len(a.Manifest) > 0:
		return nil, fmt.Errorf("give file or manifest, not both")
	case a.File != "":
		data, err := os.ReadFile(filepath.Join(dir, a.File))
		if err != nil {
			return nil, err
		}
		return job.Read(data)
	case len(a.Manifest) > 0:
		return job.Read(bytes.TrimSpace(a.Manifest))
	}
	return nil, fmt.Errorf("is required: file (a SparkApplication manifest, relative to the pipeline file) or manifest (inline)")
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
		for j, d := range t.Dependencies {
			if _, ok := index[d]; !ok {
				add(tasks.Index(i).Child("dependencies").Index(j), "unknown task %q", d)
			} else if d == t.Name {
				add(tasks.Index(i).Child("dependencies").Index(j), "a task cannot depend on itself")
			}
		}
	}
	if cycle := findCycle(s.Tasks, index); len(cycle) > 0 {
		add(tasks, "the dependencies form a cycle: %s", strings.Join(cycle, " → "))
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
		spec := t.Job.DeepCopy()
		job.Default(spec)
		for _, e := range problems(spec) {
			e.Field = paths[i].Child("application").String() + "." + e.Field
			errs = append(errs, e)
		}
	}
	return errs
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
		deps := append([]string{}, tasks[i].Dependencies...)
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
