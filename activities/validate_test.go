package activities

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/k8s/job/jobtest"
	"github.com/kindling-dev/kindling/k8s/pipeline"
)

// A job in a namespace the worker does not watch would never be supervised: it is refused
// before anything is created, naming both namespaces.
func TestValidateRefusesANamespaceTheWorkerDoesNotWatch(t *testing.T) {
	a := &Activities{WatchNamespace: "spark-jobs"}
	spec := jobtest.Minimal() // namespace default
	_, err := a.Validate(context.Background(), ValidateInput{Spec: *spec})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != ErrInvalidSpec || !ae.NonRetryable() {
		t.Fatalf("err = %v, want a non-retryable %s", err, ErrInvalidSpec)
	}
	for _, want := range []string{"namespace default", "namespace spark-jobs"} {
		if !strings.Contains(ae.Message(), want) {
			t.Errorf("message %q does not name %s", ae.Message(), want)
		}
	}
	spec.Namespace = "spark-jobs"
	if _, err := a.Validate(context.Background(), ValidateInput{Spec: *spec}); err != nil {
		t.Errorf("a job in the watched namespace was refused: %v", err)
	}
	if _, err := (&Activities{}).Validate(context.Background(), ValidateInput{Spec: *jobtest.Minimal()}); err != nil {
		t.Errorf("a worker that watches every namespace refused a job: %v", err)
	}
}

// A pipeline's tasks, its exit task included, are held to the worker's namespace limits, each
// at its own field.
func TestValidatePipelineHoldsEveryTaskToTheNamespaceLimits(t *testing.T) {
	a := &Activities{AllowedNamespaces: []string{"etl"}}
	in := func(ns string) pipeline.Task {
		s := jobtest.Minimal()
		s.Namespace = ns
		return pipeline.Task{Name: "t-" + ns, Job: *s}
	}
	exit := in("other")
	exit.Name = "notify"
	_, err := a.ValidatePipeline(context.Background(), ValidatePipelineInput{Spec: pipeline.Spec{
		Name: "p", Namespace: "etl", Tasks: []pipeline.Task{in("etl"), in("default")}, OnExit: &exit}})
	if err == nil {
		t.Fatal("a pipeline with tasks outside the allow-list was accepted")
	}
	for _, want := range []string{
		"spec.tasks[1].application.metadata.namespace: namespace default is not one this worker may run jobs in",
		"spec.onExit.application.metadata.namespace: namespace other is not one",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "spec.tasks[0]") {
		t.Errorf("the task in an allowed namespace was refused: %v", err)
	}
}
