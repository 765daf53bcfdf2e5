package activities

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/k8s/job/jobtest"
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
