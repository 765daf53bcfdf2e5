package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kindling-dev/kindling/k8s/job"
)

// KeepInput names a finished attempt's objects and when they may go.
type KeepInput struct {
	Namespace string
	// Selector selects the attempt's objects: kindling.dev/run=<hash>,kindling.dev/attempt=N.
	Selector string
	Until    time.Time
}

// KeepOutput says how many objects were marked.
type KeepOutput struct {
	Marked int `json:"marked"`
}

// KeepObjects marks a finished attempt's objects with job.AnnotationDeleteAfter: the worker
// deletes them once that time has passed (DeleteExpired), so keeping a failed driver for its
// time to live needs no workflow that looks like a running job. Marking again is harmless.
func (a *Activities) KeepObjects(ctx context.Context, in KeepInput) (KeepOutput, error) {
	if in.Selector == "" {
		return KeepOutput{}, fmt.Errorf("keep: no selector for the objects in %s", in.Namespace)
	}
	n, err := a.Cluster.Keep(ctx, in.Namespace, in.Selector, in.Until)
	return KeepOutput{Marked: n}, err
}

// DeleteExpired deletes the objects of every kept attempt whose delete-after has passed, as
// the worker's pod cache sees the attempt's driver, and names the drivers it deleted. The
// worker runs it every few seconds; the sweep catches what has no driver left to carry the
// mark. Workers that share a namespace may both delete: a delete tolerates NotFound. (A
// function, not a method: Temporal registers Activities' methods as activities.)
func DeleteExpired(ctx context.Context, a *Activities, now time.Time) ([]string, error) {
	var deleted []string
	var errs []error
	done := map[string]bool{}
	for _, p := range a.Pods.Expired(now) {
		run, attempt := p.Labels[job.LabelRun], p.Labels[job.LabelAttempt]
		if run == "" || p.Labels[job.LabelManagedBy] != job.ManagedByValue || p.Labels[job.LabelSparkRole] != job.SparkRoleDriver {
			continue // not a driver Kindling made: its mark is not ours to act on
		}
		sel := job.LabelRun + "=" + run
		if attempt != "" {
			sel += "," + job.LabelAttempt + "=" + attempt
		}
		if done[p.Namespace+" "+sel] {
			continue
		}
		done[p.Namespace+" "+sel] = true
		if err := a.Cluster.Delete(ctx, p.Namespace, "", "", []string{sel}); err != nil {
			// One namespace that refuses must not hold up the others.
			errs = append(errs, fmt.Errorf("delete the expired objects of %s/%s: %w", p.Namespace, p.Name, err))
			continue
		}
		deleted = append(deleted, p.Namespace+"/"+p.Name)
	}
	return deleted, errors.Join(errs...)
}

// ExpireEvery runs DeleteExpired every interval until ctx ends: the worker's deleter of the
// objects finished jobs kept for their time to live. A failure is logged and tried again.
func ExpireEvery(ctx context.Context, a *Activities, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		deleted, err := DeleteExpired(ctx, a, time.Now())
		for _, d := range deleted {
			log.Info("deleted a finished job's objects: their time to live ended", "driverPod", d)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("delete expired objects", "error", err)
		}
	}
}
