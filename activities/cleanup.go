package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/kindling-dev/kindling/internal/crashpoint"
	"github.com/kindling-dev/kindling/k8s/job"
)

// cleanupWait bounds how long Cleanup waits for the attempt's pods to be gone.
const cleanupWait = 2 * time.Minute

// Cleanup deletes an attempt (cluster.Objects.Delete) and waits until its pods are gone, so
// the next attempt never overlaps the last. It may run again after a retry, a cancel or a
// restart, and must not mind.
func (a *Activities) Cleanup(ctx context.Context, in CleanupInput) (err error) {
	defer a.stage("cleanup", time.Now(), &err)
	var selectors []string
	if in.Selector != "" {
		selectors = append(selectors, in.Selector)
	}
	if in.AppID != "" {
		selectors = append(selectors, job.LabelSparkAppID+"="+in.AppID)
	}
	objs := a.Cluster
	defer keepAlive(ctx, 10*time.Second)()
	if err := objs.Delete(ctx, in.Namespace, in.DriverPod, in.DriverUID, selectors); err != nil {
		return err
	}
	crashpoint.Here(crashpoint.CleanupAfterDelete)
	deadline := time.Now().Add(cleanupWait)
	for {
		left, err := objs.PodsLeft(ctx, in.Namespace, in.DriverPod, in.DriverUID, selectors)
		if err != nil {
			return err
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d pods of %s still present %s after deletion", left, in.DriverPod, cleanupWait)
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, left)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	logger(ctx).Info("attempt cleaned up", "namespace", in.Namespace, "driverPod", in.DriverPod, "appId", in.AppID)
	return nil
}
