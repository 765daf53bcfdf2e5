package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/term"

	"github.com/kindling-dev/kindling/internal/tracing"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
	"github.com/kindling-dev/kindling/workflows"
)

func warnLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func newSubmitCmd(opts *temporalOptions) *cobra.Command {
	var (
		file, id, output, logicalDate, taskQueue string
		wait                                     bool
	)
	cmd := &cobra.Command{
		Use:   "submit -f FILE",
		Short: "Start a Spark job from a SparkApplication manifest",
		Long: "submit checks the manifest, then starts a SparkJob workflow on the `kindling` task queue (--task-queue). " +
			"With --wait it follows the job's stages until it ends and exits 0 only when the job COMPLETED (1 otherwise; " +
			"2 when the manifest is invalid, before anything starts).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "json" && output != "text" {
				return fmt.Errorf("--output %q: use text or json", output)
			}
			if data, err := os.ReadFile(file); err == nil {
				if kind, _ := job.KindOf(data); kind == "ScheduledSparkApplication" {
					return exitError{code: 2, err: fmt.Errorf("%s is a ScheduledSparkApplication: `kindling schedule apply -f %s` runs it on its schedule, and `kindling schedule trigger` runs it at once", file, file)}
				}
			}
			var carry workflows.Carry
			if logicalDate != "" {
				t, err := parseWhen("--logical-date", logicalDate, time.UTC)
				if err != nil {
					return err
				}
				carry.LogicalDate = &t
			}
			spec, err := readJobFile(file, opts.problems)
			if err != nil {
				return exitError{code: exitInvalid, err: err}
			}
			// readJobFile checked it, so a mistake costs no workflow; the workflow checks again.
			checked := spec.DeepCopy()
			job.Default(checked)
			for _, w := range render.Warnings(checked) {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if id == "" {
				id = spec.Name + "-" + strings.SplitN(uuid.NewString(), "-", 2)[0]
			}
			c, err := opts.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			// One trace from here to the job's cleanup (tracing on: OTEL_EXPORTER_OTLP_ENDPOINT).
			ctx, span := otel.Tracer("kindling").Start(cmd.Context(), "kindling submit "+checked.Namespace+"/"+checked.Name)
			defer span.End()
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID:                       id,
				TaskQueue:                taskQueue,
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
				StaticSummary:            workflows.Summary(checked),
				TypedSearchAttributes:    workflows.StartSearchAttributes(checked),
			}, workflows.WorkflowName, *spec, carry)
			if err != nil {
				return fmt.Errorf("start job %s: %w", id, err)
			}
			w := cmd.ErrOrStderr()
			if output == "json" && !wait {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{
					"workflowId": run.GetID(), "runId": run.GetRunID(), "url": opts.runURL(run.GetID(), run.GetRunID()),
				})
			}
			fmt.Fprintf(w, "job %s started (run %s)\n  %s\n", run.GetID(), run.GetRunID(), opts.runURL(run.GetID(), run.GetRunID()))
			if id := tracing.TraceID(ctx); id != "" {
				fmt.Fprintf(w, "  trace %s\n", id)
			}
			if !wait {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\n", run.GetID())
				return nil
			}
			res, err := follow(ctx, c, opts.dc, run, w)
			if err != nil {
				return err
			}
			return report(cmd.OutOrStdout(), res, output, opts.runURL(run.GetID(), run.GetRunID()))
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "SparkApplication manifest or bare spec (YAML or JSON)")
	cmd.Flags().StringVar(&id, "id", "", "workflow ID (default <job name>-<random>)")
	cmd.Flags().StringVar(&logicalDate, "logical-date", "", "the date the run stands for (2026-11-24 or an RFC 3339 time, UTC unless it says): fills {{ ds }} and the other templates")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the job until it ends; exit 0 only when it COMPLETED")
	cmd.Flags().StringVar(&taskQueue, "task-queue", workflows.TaskQueue, "task queue of the workers that run it")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "result format: text or json")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// follow prints the job's progress as it changes and returns its result. On a terminal
// the progress line is rewritten in place; elsewhere each change is a new line.
func follow(ctx context.Context, c client.Client, dc converter.DataConverter, run client.WorkflowRun, w io.Writer) (workflows.JobResult, error) {
	tty := isTerminal(w)
	last := ""
	res, err := await(ctx, run, "job", workflows.ResultFromError, func() {
		st, err := queryStatus(ctx, c, dc, run.GetID(), run.GetRunID())
		if err != nil {
			return // the workflow may not have started on a worker yet
		}
		line := progressLine(st)
		if line == last {
			return
		}
		if tty {
			fmt.Fprintf(w, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(w, line)
		}
		last = line
	})
	if tty && last != "" {
		fmt.Fprintln(w)
	}
	return res, err
}

// await waits for run's result, calling every each second meanwhile. A failed or cancelled
// run's result is the one its error carries (fromErr); an error without one is returned.
func await[T any](ctx context.Context, run client.WorkflowRun, kind string, fromErr func(error) (T, bool), every func()) (T, error) {
	done := make(chan struct{})
	var res T
	var runErr error
	go func() { defer close(done); runErr = run.Get(ctx, &res) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			if runErr != nil {
				if r, ok := fromErr(runErr); ok {
					return r, nil
				}
				return res, fmt.Errorf("%s %s: %w", kind, run.GetID(), unwrapApp(runErr))
			}
			return res, nil
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
			every()
		}
	}
}

func queryStatus(ctx context.Context, c client.Client, dc converter.DataConverter, id, runID string) (workflows.Status, error) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return workflows.LiveStatus(qctx, c, dc, id, runID)
}

func progressLine(st workflows.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "attempt %d  %-22s", max(st.Attempt, 1), st.Stage)
	if st.DriverPhase != "" {
		fmt.Fprintf(&b, "  driver %s", st.DriverPhase)
	}
	if st.ExecutorsRunning+st.ExecutorsPending+st.ExecutorsFailed > 0 {
		fmt.Fprintf(&b, "  executors %d running, %d pending, %d failed", st.ExecutorsRunning, st.ExecutorsPending, st.ExecutorsFailed)
	}
	if st.LastReason != "" {
		fmt.Fprintf(&b, "  (%s)", st.LastReason)
	}
	return b.String()
}

// report prints the result and returns an exit error unless the job COMPLETED.
func report(w io.Writer, res workflows.JobResult, output, url string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "%s", formatResult(res))
		fmt.Fprintf(w, "  history: %s\n", url)
	}
	if res.State != workflows.StateCompleted {
		return exitError{code: 1}
	}
	return nil
}

func formatResult(res workflows.JobResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", res.State)
	if res.Reason != "" {
		fmt.Fprintf(&b, ": %s", res.Reason)
	}
	fmt.Fprintln(&b)
	if res.Dates != nil {
		fmt.Fprintf(&b, "  logical date: %s\n", res.Dates.Values()["logical_date"])
	}
	if res.AppID != "" {
		fmt.Fprintf(&b, "  app id: %s\n", res.AppID)
	}
	for _, a := range res.Attempts {
		fmt.Fprintf(&b, "  attempt %d: %s", a.Attempt, a.State)
		if a.Reason != "" {
			fmt.Fprintf(&b, " (%s)", a.Reason)
		}
		fmt.Fprintf(&b, "  driver %s, memory %s\n", a.DriverPod, a.DriverMemory)
	}
	if res.KeptUntil != nil && len(res.Attempts) > 0 {
		fmt.Fprintf(&b, "  driver %s kept until %s, then deleted\n", res.Attempts[len(res.Attempts)-1].DriverPod, res.KeptUntil.Local().Format(time.RFC3339))
	}
	if n := len(res.Attempts); n > 0 && res.Attempts[n-1].LogTail != "" {
		fmt.Fprintf(&b, "  the end of the driver's log:\n")
		for _, l := range strings.Split(strings.TrimRight(res.Attempts[n-1].LogTail, "\n"), "\n") {
			fmt.Fprintf(&b, "    | %s\n", l)
		}
	}
	for _, d := range res.Dependencies {
		if d.Verified {
			fmt.Fprintf(&b, "  dependency %s: %d bytes, sha256 %s\n", d.URI, d.Size, d.SHA256)
		}
	}
	return b.String()
}

func unwrapApp(err error) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return errors.New(ae.Message())
	}
	return err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}
