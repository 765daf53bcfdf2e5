package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/k8s/cluster"
)

// CreateResources creates one attempt's objects (cluster.Objects.Apply): idempotent, so a
// retried activity or a restarted worker never makes a second driver. An object of the
// attempt's name that is not the attempt's fails for good with ErrForeignObject.
func (a *Activities) CreateResources(ctx context.Context, in CreateInput) (_ CreateOutput, err error) {
	defer a.stage("create", time.Now(), &err)
	r := &in.Rendered
	defer keepAlive(ctx, 5*time.Second)()
	applied, err := a.Cluster.Apply(ctx, r)
	if err != nil {
		return CreateOutput{}, createError(err)
	}
	logger(ctx).Info("attempt created", "namespace", r.Namespace, "driverPod", applied.DriverPod,
		"service", r.Service.Name, "configMap", r.ConfigMap.Name, "appId", r.AppID)
	return CreateOutput{DriverPod: applied.DriverPod, DriverUID: applied.DriverUID}, nil
}

// createError gives the workflow an error type to branch on: a foreign object or a request
// that cannot succeed fails for good; anything else is retried by the activity's policy.
func createError(err error) error {
	var foreign *cluster.ForeignError
	if errors.As(err, &foreign) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrForeignObject, nil)
	}
	var apply *cluster.ApplyError
	if errors.As(err, &apply) && apply.Permanent {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrSubmission, apply.Err)
	}
	return temporal.NewApplicationErrorWithCause(err.Error(), ErrSubmissionRetryable, err)
}
