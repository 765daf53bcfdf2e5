package activities

import (
	"context"

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
	return ValidateOutput{Spec: spec}, nil
}
