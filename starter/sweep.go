package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/workflows"
)

func newSweepCmd(opts *temporalOptions) *cobra.Command {
	var namespace, queue string
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Remove the objects of jobs that ended without cleaning up (terminated from the UI, or killed by a bug)",
		Long: "Runs the sweep a worker also runs on a schedule: every Kindling object whose workflow run has\n" +
			"ended, and that is not kept for its time to live, is deleted; kept objects whose time to live\n" +
			"has ended are deleted too.",
		Args: cobra.NoArgs,
		RunE: opts.withClient(func(cmd *cobra.Command, _ []string, c client.Client) error {
			ctx := cmd.Context()
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: fmt.Sprintf("kindling-sweep-by-hand-%d", time.Now().UnixNano()), TaskQueue: queue,
			}, workflows.SweepWorkflowName, activities.SweepInput{Namespace: namespace})
			if err != nil {
				return fmt.Errorf("start the sweep: %w", err)
			}
			var out activities.SweepOutput
			if err := run.Get(ctx, &out); err != nil {
				return fmt.Errorf("sweep %s: %w", run.GetID(), unwrapApp(err))
			}
			w := cmd.OutOrStdout()
			for _, d := range out.Deleted {
				fmt.Fprintln(w, "deleted", d)
			}
			fmt.Fprintf(w, "%d ended runs swept, %d runs left alone (running, or kept for their time to live)\n", len(out.Deleted), out.Kept)
			return nil
		}),
	}
	cmd.Flags().StringVar(&namespace, "kube-namespace", "", "Kubernetes namespace to sweep (default: every namespace the worker watches)")
	cmd.Flags().StringVar(&queue, "task-queue", workflows.TaskQueue, "task queue of the workers that run it")
	return cmd
}
