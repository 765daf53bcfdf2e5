package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
)

// newRenderCmd is `kindling render`: print the objects one attempt of a job would create,
// without creating anything.
func newRenderCmd(opts *temporalOptions) *cobra.Command {
	var (
		file       string
		attempt    int
		workflowID string
	)
	cmd := &cobra.Command{
		Use:   "render -f FILE",
		Short: "Print the Kubernetes objects a job renders to, as multi-document YAML",
		Long: "Render reads a SparkApplication (or bare spec) and prints the ConfigMap, driver Pod, " +
			"Service and any extra objects one attempt would create. Nothing is created. " +
			"An invalid spec prints every problem to stderr and exits non-zero.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := readJobFile(file, opts.problems)
			if err != nil {
				return err
			}
			id := workflowID
			if id == "" {
				id = "render-" + spec.Name
			}
			r, err := render.Attempt(spec, render.Options{WorkflowID: id, Attempt: attempt})
			var invalid *job.ValidationError
			if errors.As(err, &invalid) {
				return fmt.Errorf("%s: %w", file, invalid)
			}
			if err != nil {
				return fmt.Errorf("render %s: %w", file, err)
			}
			for _, w := range r.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			out, err := render.MarshalYAML(r)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "job manifest (YAML or JSON)")
	cmd.Flags().IntVar(&attempt, "attempt", 1, "attempt number the names derive from")
	cmd.Flags().StringVar(&workflowID, "workflow-id", "", "workflow ID the names derive from (default render-<job name>)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}
