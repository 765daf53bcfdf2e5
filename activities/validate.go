package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
)

// Validate applies the operator's defaults and checks every field (render.Validate). A bad
// spec is a non-retryable ErrInvalidSpec whose message lists every problem, field by field.
func (a *Activities) Validate(_ context.Context, in ValidateInput) (ValidateOutput, error) {
	spec := in.Spec
	job.Default(&spec)
	if err := render.Validate(&spec); err != nil {
		return ValidateOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidSpec, nil)
	}
	// A job this worker cannot see would never be supervised: refuse it before anything exists.
	if a.WatchNamespace != "" && spec.Namespace != a.WatchNamespace {
		return ValidateOutput{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"invalid job spec (1 problem):\nmetadata.namespace: the job runs in namespace %s, but this worker supervises only namespace %s (--watch-namespace); "+
				"submit it to a worker that watches %s, or to one that watches all namespaces", spec.Namespace, a.WatchNamespace, spec.Namespace),
			ErrInvalidSpec, nil)
	}
	return ValidateOutput{Spec: spec}, nil
}
