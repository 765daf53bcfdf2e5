package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/k8s/render"
)

// Render turns the spec into one attempt's objects (render.Attempt). Pure: the same input
// renders the same objects, so a retried or replayed render changes nothing.
func (a *Activities) Render(_ context.Context, in RenderInput) (RenderOutput, error) {
	spec := in.Spec
	r, err := render.Attempt(&spec, in.Options)
	if err != nil {
		return RenderOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidSpec, nil)
	}
	return RenderOutput{Rendered: *r}, nil
}
