package activities

import (
	"errors"
	"fmt"
	"testing"

	"go.temporal.io/sdk/temporal"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kindling-dev/kindling/k8s/cluster"
)

// The workflow branches on these types: a foreign object and a request that cannot succeed
// must stop the retries; a server hiccup must not.
func TestCreateErrorsCarryTheTypeTheWorkflowBranchesOn(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	for _, tc := range []struct {
		name         string
		err          error
		wantType     string
		nonRetryable bool
	}{
		{"foreign object", &cluster.ForeignError{Namespace: "default", Name: "pi-driver"}, ErrForeignObject, true},
		{"wrapped foreign object", fmt.Errorf("create: %w", &cluster.ForeignError{Name: "pi-driver"}), ErrForeignObject, true},
		{"forbidden", &cluster.ApplyError{What: "create driver pod", Err: apierrors.NewForbidden(pods, "pi", errors.New("no")), Permanent: true}, ErrSubmission, true},
		{"server busy", &cluster.ApplyError{What: "create driver pod", Err: apierrors.NewServerTimeout(pods, "create", 1)}, ErrSubmissionRetryable, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ae *temporal.ApplicationError
			if !errors.As(createError(tc.err), &ae) {
				t.Fatalf("createError(%v) is not an ApplicationError", tc.err)
			}
			if ae.Type() != tc.wantType || ae.NonRetryable() != tc.nonRetryable {
				t.Errorf("type %q non-retryable %v, want %q %v", ae.Type(), ae.NonRetryable(), tc.wantType, tc.nonRetryable)
			}
		})
	}
}
