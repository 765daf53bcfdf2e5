package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// CleanupAfter keeps a finished job's objects for in.Delay (a durable timer, so a worker
// restart does not lose it), then deletes them. SparkJob starts it as an abandoned child so
// the job's result does not wait. Cancelling CleanupAfter deletes the objects at once.
func CleanupAfter(ctx workflow.Context, in CleanupAfterInput) error {
	err := workflow.Sleep(ctx, in.Delay)
	if err != nil && ctx.Err() == nil {
		return err
	}
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	if cerr := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, cleanupOptions), a.Cleanup, in.Cleanup).Get(dctx, nil); cerr != nil {
		return cerr
	}
	// Cancelled while waiting: the objects are gone; end as Canceled, as asked.
	return err
}
