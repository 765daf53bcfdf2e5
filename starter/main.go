// Command kindling submits Spark jobs as durable Temporal workflows and follows them:
// submit, status, list, cancel and render. `make build` builds it as bin/kindling.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries an exit code, and err when the command has not yet said why.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit %d", e.code)
}

func main() {
	root := newRootCmd()
	err := root.Execute()
	_ = flushTraces(context.Background())
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			if ee.err != nil {
				fmt.Fprintln(os.Stderr, "kindling:", ee.err)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "kindling:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	opts := &temporalOptions{}
	root := &cobra.Command{
		Use:   "kindling",
		Short: "Run Apache Spark jobs on Kubernetes as durable Temporal workflows",
		Long: "kindling submits SparkApplication manifests (the kubeflow Spark operator's v1beta2 format) " +
			"to Kindling's workers through Temporal, and follows them to the end.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	opts.bind(root)
	root.AddCommand(
		newSubmitCmd(opts),
		newStatusCmd(opts),
		newCancelCmd(opts),
		newSweepCmd(opts),
		newScheduleCmd(opts),
		newPipelineCmd(opts),
		newListCmd(opts),
		newCodecServerCmd(opts),
		newLogsCmd(opts),
		newRenderCmd(opts),
		newSessionCmd(opts),
	)
	return root
}
