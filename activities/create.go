package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/internal/tracing"
	"github.com/kindling-dev/kindling/k8s/cluster"
)

// CreateResources creates one attempt's objects (cluster.Objects.Apply): idempotent, so a
// retried activity or a restarted worker never makes a second driver. An object of the
// attempt's name that is not the attempt's fails for good with ErrForeignObject.
func (a *Activities) CreateResources(ctx context.Context, in CreateInput) (_ CreateOutput, err error) {
	defer a.stage("create", time.Now(), &err)
	r := &in.Rendered
	defer keepAlive(ctx, 5*time.Second)()
	trace := tracing.TraceID(ctx)
	if trace != "" && r.DriverPod != nil {
		// From a pod to its trace: the annotation names the trace that created it.
		if r.DriverPod.Annotations == nil {
			r.DriverPod.Annotations = map[string]string{}
		}
		r.DriverPod.Annotations[AnnotationTraceID] = trace
	}
	applied, err := a.Cluster.Apply(ctx, r)
	if err != nil {
		return CreateOutput{}, createError(err)
	}
	logger(ctx).Info("attempt created", "namespace", r.Namespace, "driverPod", applied.DriverPod,
		"service", r.Service.Name, "configMap", r.ConfigMap.Name, "appId", r.AppID)
	return CreateOutput{DriverPod: applied.DriverPod, DriverUID: applied.DriverUID, TraceID: trace}, nil
}

// AnnotationTraceID on a driver pod is the OpenTelemetry trace its attempt was created in.
const AnnotationTraceID = "kindling.dev/trace-id"

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
