package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/k8s"
)

// Validate applies the operator's defaults and checks every field. A bad spec is a
// non-retryable ErrInvalidSpec whose message lists every problem, field by field.
func (a *Activities) Validate(_ context.Context, in ValidateInput) (ValidateOutput, error) {
	spec := in.Spec
	k8s.Default(&spec)
	if err := k8s.Validate(&spec); err != nil {
		return ValidateOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidSpec, nil)
	}
	return ValidateOutput{Spec: spec}, nil
}

// Render turns the spec into one attempt's objects. Pure: the same input renders the same
// objects, so a retried or replayed render changes nothing.
func (a *Activities) Render(_ context.Context, in RenderInput) (RenderOutput, error) {
	spec := in.Spec
	r, err := k8s.Render(&spec, in.Options)
	if err != nil {
		return RenderOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidSpec, nil)
	}
	return RenderOutput{Rendered: *r}, nil
}
