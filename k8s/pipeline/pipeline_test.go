package pipeline_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/pipeline"
	"github.com/kindling-dev/kindling/k8s/render"
)

const app = `apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: extract, namespace: etl}
spec:
  type: Scala
  mode: cluster
  image: spark:4.0.1
  mainClass: org.example.Extract
  mainApplicationFile: local:///opt/app.jar
`

func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "pipeline.yaml")
}

// noProblems stands in for render.Problems where a test is about the DAG.
func noProblems(*job.JobSpec) field.ErrorList { return nil }

func TestReadResolvesTaskManifests(t *testing.T) {
	path := write(t, map[string]string{
		"extract.yaml": app,
		"pipeline.yaml": `apiVersion: kindling.dev/v1alpha1
kind: SparkPipeline
metadata: {name: nightly}
spec:
  parallelism: 2
  tasks:
  - name: extract
    application: {file: extract.yaml}
  - name: load
    dependencies: [extract]
    application:
      manifest:
        apiVersion: sparkoperator.k8s.io/v1beta2
        kind: SparkApplication
        metadata: {name: load, namespace: etl}
        spec: {type: Scala, mode: cluster, image: "spark:4.0.1", mainClass: org.example.Load, mainApplicationFile: "local:///opt/app.jar"}
`})
	s, err := pipeline.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Namespace != "default" || s.Parallelism != 2 || len(s.Tasks) != 2 || !s.FailsFast() {
		t.Fatalf("read %+v", s)
	}
	if s.Tasks[0].Job.MainClass != "org.example.Extract" || s.Tasks[1].Job.MainClass != "org.example.Load" || s.Tasks[1].Dependencies[0] != "extract" {
		t.Errorf("tasks %+v", s.Tasks)
	}
	if errs := pipeline.Check(s, noProblems); len(errs) > 0 {
		t.Errorf("a valid pipeline has problems: %v", errs)
	}
}

func TestCheckNamesEveryProblem(t *testing.T) {
	task := func(name string, deps ...string) pipeline.Task {
		return pipeline.Task{Name: name, Dependencies: deps, Job: job.JobSpec{Name: name, Namespace: "etl"}}
	}
	s := &pipeline.Spec{Name: "nightly", Namespace: "etl", Tasks: []pipeline.Task{
		task("a", "c"), task("b", "a"), task("c", "b"), task("a"), task("d", "nope"),
	}}
	bad := func(j *job.JobSpec) field.ErrorList {
		if j.Name == "d" {
			return field.ErrorList{job.Invalid(job.SpecPath.Child("mainClass"), "is required for Scala applications")}
		}
		return nil
	}
	msg := job.Errors(pipeline.Check(s, bad)).Error()
	for _, want := range []string{
		`spec.tasks[3].name: "a" is also the name of task 0`,
		`spec.tasks[4].dependencies[0]: unknown task "nope"`,
		"the dependencies form a cycle: a → c → b → a",
		"spec.tasks[4].application.spec.mainClass: is required for Scala applications",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
}

// The example a new user runs first reads and checks clean, with every job rule.
func TestExamplePipelineIsValid(t *testing.T) {
	s, err := pipeline.Read(filepath.Join("..", "..", "examples", "nightly-etl-pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.Errors(pipeline.Check(s, render.Problems)); err != nil {
		t.Fatal(err)
	}
	if len(s.Tasks) != 5 || s.Tasks[2].When == "" || s.Tasks[3].Depends == "" || s.OnExit == nil {
		t.Errorf("the example lost its when, depends or onExit: %+v", s)
	}
}
