package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/k8s/pipeline"
	"github.com/kindling-dev/kindling/workflows"
)

func newPipelineCmd(opts *temporalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Run a DAG of Spark jobs (a SparkPipeline file)",
		Long: "pipeline runs a SparkPipeline: tasks, each a Spark job (a SparkApplication manifest), that start " +
			"once their dependencies succeeded, in parallel up to spec.parallelism. Exit code of submit --wait and " +
			"status: 0 when the pipeline COMPLETED, 1 otherwise, 2 for invalid input.",
	}
	cmd.AddCommand(newPipelineSubmitCmd(opts), newPipelineStatusCmd(opts), newPipelineListCmd(opts), newPipelineCancelCmd(opts),
		newPipelineResumeCmd(opts))
	return cmd
}

func newPipelineSubmitCmd(opts *temporalOptions) *cobra.Command {
	var file, id, output, taskQueue, logicalDate string
	var wait bool
	cmd := &cobra.Command{
		Use:   "submit -f FILE",
		Short: "Check a pipeline (every problem at once) and start it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := pipeline.Read(file)
			if err != nil {
				return exitError{code: exitInvalid, err: err}
			}
			if err := pipeline.Errors(pipeline.Check(s, opts.problems)); err != nil {
				return exitError{code: exitInvalid, err: fmt.Errorf("%s: %w", file, err)}
			}
			if s.Schedule != nil {
				return exitError{code: exitInvalid, err: fmt.Errorf("%s has spec.schedule: `kindling schedule apply -f %s` runs it on its schedule, and `kindling schedule trigger` runs it at once", file, file)}
			}
			var carry workflows.Carry
			if logicalDate != "" {
				t, err := parseWhen("--logical-date", logicalDate, time.UTC)
				if err != nil {
					return err
				}
				carry.LogicalDate = &t
			}
			c, err := opts.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			return startPipeline(cmd, opts, c, s, id, taskQueue, carry, wait, output)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "SparkPipeline file (YAML)")
	cmd.Flags().StringVar(&id, "id", "", "workflow ID (default <pipeline name>-<random>)")
	cmd.Flags().StringVar(&taskQueue, "task-queue", workflows.TaskQueue, "task queue the pipeline and its jobs run on")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the pipeline until it ends; exit 0 only when it COMPLETED")
	cmd.Flags().StringVar(&logicalDate, "logical-date", "", "the date every task stands for (2026-11-24 or an RFC 3339 time): fills {{ ds }} and the other templates")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "result format: text or json")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// startPipeline starts a pipeline run and, with wait, follows it to its end.
func startPipeline(cmd *cobra.Command, opts *temporalOptions, c client.Client, s *pipeline.Spec, id, taskQueue string, carry workflows.Carry, wait bool, output string) error {
	if id == "" {
		id = s.Name + "-" + strings.SplitN(uuid.NewString(), "-", 2)[0]
	}
	ctx := cmd.Context()
	summary := fmt.Sprintf("pipeline %s in %s · %d tasks", s.Name, s.Namespace, len(s.Tasks))
	if carry.Resume != nil {
		summary += " · resumes " + carry.Resume.From
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: taskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		StaticSummary: summary,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchAttrPipeline.ValueSet(id), workflows.SearchAttrJobName.ValueSet(s.Name),
			workflows.SearchAttrNamespace.ValueSet(s.Namespace), workflows.SearchAttrState.ValueSet(workflows.StateRunning)),
	}, workflows.PipelineWorkflowName, *s, carry)
	if err != nil {
		return fmt.Errorf("start pipeline %s: %w", id, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "pipeline %s started (run %s)\n  %s\n", id, run.GetRunID(), opts.runURL(id, run.GetRunID()))
	if !wait {
		fmt.Fprintln(cmd.OutOrStdout(), id)
		return nil
	}
	res, err := followPipeline(ctx, c, run, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	return reportPipeline(cmd.OutOrStdout(), res, output)
}

func newPipelineResumeCmd(opts *temporalOptions) *cobra.Command {
	var file, id, output, taskQueue string
	var from []string
	var wait bool
	cmd := &cobra.Command{
		Use:   "resume ID",
		Short: "Run an ended pipeline again, reusing every task that succeeded with the same inputs",
		Long: "resume starts a new run of an ended pipeline (by default its spec as it ran, or -f FILE, say with a " +
			"task's manifest fixed). A task that succeeded in that run is reused, not run again, when its inputs " +
			"are the same: its job spec with its templates filled, the run's dates (kept from that run), and the " +
			"results of the tasks upstream of it. Everything else runs. --from TASK runs TASK and everything " +
			"downstream of it again whatever they did. The result names the run each reused task's job ran in.",
		Args: cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			ctx := cmd.Context()
			old := args[0]
			d, err := c.DescribeWorkflowExecution(ctx, old, "")
			var nf *serviceerror.NotFound
			switch {
			case errors.As(err, &nf):
				return exitError{code: exitNotFound, err: fmt.Errorf("no pipeline %s (`kindling pipeline list` shows them)", old)}
			case err != nil:
				return fmt.Errorf("pipeline %s: %w", old, err)
			case d.GetWorkflowExecutionInfo().GetType().GetName() != workflows.PipelineWorkflowName:
				return exitError{code: exitInvalid, err: fmt.Errorf("%s is a %s workflow, not a pipeline", old, d.GetWorkflowExecutionInfo().GetType().GetName())}
			case d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
				return exitError{code: exitInvalid, err: fmt.Errorf("pipeline %s is still running: wait for it to end, or `kindling pipeline cancel %s` first", old, old)}
			}
			if !cmd.Flags().Changed("task-queue") {
				taskQueue = d.GetWorkflowExecutionInfo().GetTaskQueue() // where the earlier run ran
			}
			spec, prevCarry, err := pipelineInput(ctx, c, opts.dc, old)
			if err != nil {
				return err
			}
			if file != "" {
				if spec, err = pipeline.Read(file); err != nil {
					return exitError{code: exitInvalid, err: err}
				}
			}
			if err := pipeline.Errors(pipeline.Check(spec, opts.problems)); err != nil {
				return exitError{code: exitInvalid, err: err}
			}
			for _, f := range from {
				if !slices.ContainsFunc(spec.Tasks, func(t pipeline.Task) bool { return t.Name == f }) {
					var names []string
					for _, t := range spec.Tasks {
						names = append(names, t.Name)
					}
					return exitError{code: exitInvalid, err: fmt.Errorf("--from %s: the pipeline has no task %s (its tasks: %s)", f, f, strings.Join(names, ", "))}
				}
			}
			var prev workflows.PipelineResult
			if err := c.GetWorkflow(ctx, old, "").Get(ctx, &prev); err != nil {
				r, ok := workflows.PipelineResultFromError(err)
				if !ok {
					fmt.Fprintf(cmd.ErrOrStderr(), "pipeline %s left no task results (%v): every task runs\n", old, unwrapApp(err))
				}
				prev = r
			}
			// The same dates as the run resumed, so {{ ds }} means what it meant there.
			// What reuse needs of each task, not its whole job result: the input stays small.
			tasks := map[string]workflows.TaskResult{}
			for name, r := range prev.Tasks {
				tasks[name] = workflows.TaskResult{State: r.State, WorkflowID: r.WorkflowID, RunID: r.RunID, Tries: r.Tries,
					StartedAt: r.StartedAt, EndedAt: r.EndedAt, Outputs: r.Outputs, Input: r.Input, ReusedFrom: r.ReusedFrom}
			}
			carry := workflows.Carry{Dates: prev.Dates, Resume: &workflows.PipelineResume{From: old, Tasks: tasks, Rerun: from}}
			if carry.Dates == nil {
				carry.Dates, carry.LogicalDate, carry.Schedule = prevCarry.Dates, prevCarry.LogicalDate, prevCarry.Schedule
			}
			return startPipeline(cmd, opts, c, spec, id, taskQueue, carry, wait, output)
		}),
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "run this SparkPipeline file instead of the spec the earlier run had")
	cmd.Flags().StringSliceVar(&from, "from", nil, "run this task and everything downstream of it again (repeatable)")
	cmd.Flags().StringVar(&id, "id", "", "workflow ID of the new run (default <pipeline name>-<random>)")
	cmd.Flags().StringVar(&taskQueue, "task-queue", workflows.TaskQueue, "task queue the pipeline and its jobs run on (default: the earlier run's)")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the pipeline until it ends; exit 0 only when it COMPLETED")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "result format: text or json")
	return cmd
}

// pipelineInput reads what a pipeline run was started with: its spec and its carry.
func pipelineInput(ctx context.Context, c client.Client, dc converter.DataConverter, id string) (*pipeline.Spec, workflows.Carry, error) {
	var carry workflows.Carry
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return nil, carry, fmt.Errorf("pipeline %s: no history", id)
	}
	ev, err := it.Next()
	if err != nil {
		return nil, carry, fmt.Errorf("pipeline %s: read its history: %w", id, err)
	}
	payloads := ev.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(payloads) == 0 {
		return nil, carry, fmt.Errorf("pipeline %s: its start event has no input", id)
	}
	var spec pipeline.Spec
	if err := dc.FromPayload(payloads[0], &spec); err != nil {
		return nil, carry, fmt.Errorf("pipeline %s: read its spec: %w", id, err)
	}
	if len(payloads) > 1 {
		_ = dc.FromPayload(payloads[1], &carry)
	}
	return &spec, carry, nil
}

// followPipeline prints each task's state as it changes and returns the pipeline's result.
func followPipeline(ctx context.Context, c client.Client, run client.WorkflowRun, w io.Writer) (workflows.PipelineResult, error) {
	last := map[string]string{}
	return await(ctx, run, "pipeline", workflows.PipelineResultFromError, func() {
		v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.QueryPipeline)
		var st workflows.PipelineResult
		if err != nil || v.Get(&st) != nil {
			return
		}
		for _, name := range st.Order {
			if s := st.Tasks[name].State; s != last[name] {
				fmt.Fprintf(w, "%s  task %-20s %s\n", time.Now().Format(time.TimeOnly), name, s)
				last[name] = s
			}
		}
	})
}

func reportPipeline(w io.Writer, res workflows.PipelineResult, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printPipeline(w, res)
	}
	if res.State != workflows.StateCompleted {
		return exitError{code: 1}
	}
	return nil
}

func printPipeline(w io.Writer, res workflows.PipelineResult) {
	fmt.Fprint(w, res.State)
	if res.Reason != "" {
		fmt.Fprintf(w, ": %s", res.Reason)
	}
	fmt.Fprintln(w)
	if res.ResumedFrom != "" {
		fmt.Fprintf(w, "  resumed from %s\n", res.ResumedFrom)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TASK\tSTATE\tTRIES\tDURATION\tJOB\tREASON")
	for _, name := range res.Order {
		r := res.Tasks[name]
		dur := "-"
		if r.StartedAt != nil && r.EndedAt != nil {
			dur = r.EndedAt.Sub(*r.StartedAt).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\n", name, r.State, r.Tries, dur, orDash(r.WorkflowID), r.Reason)
	}
	_ = tw.Flush()
	for _, name := range res.Order {
		if out := res.Tasks[name].Outputs; len(out) > 0 {
			var kv []string
			for _, k := range slices.Sorted(maps.Keys(out)) {
				kv = append(kv, k+"="+out[k])
			}
			fmt.Fprintf(w, "  outputs of %s: %s\n", name, strings.Join(kv, " "))
		}
	}
}

func newPipelineStatusCmd(opts *temporalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a pipeline's tasks: state, tries, duration, reason",
		Args:  cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			ctx := cmd.Context()
			d, err := c.DescribeWorkflowExecution(ctx, args[0], "")
			if err != nil {
				return fmt.Errorf("pipeline %s: %w", args[0], err)
			}
			var res workflows.PipelineResult
			if d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				v, err := c.QueryWorkflow(ctx, args[0], "", workflows.QueryPipeline)
				if err != nil {
					return fmt.Errorf("query pipeline %s: %w", args[0], err)
				}
				if err := v.Get(&res); err != nil {
					return err
				}
				if output == "json" {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
				}
				printPipeline(cmd.OutOrStdout(), res)
				return nil
			}
			if err := c.GetWorkflow(ctx, args[0], "").Get(ctx, &res); err != nil {
				r, ok := workflows.PipelineResultFromError(err)
				if !ok {
					return fmt.Errorf("pipeline %s: %w", args[0], unwrapApp(err))
				}
				res = r
			}
			return reportPipeline(cmd.OutOrStdout(), res, output)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func newPipelineListCmd(opts *temporalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List pipelines, newest first",
		Args:  cobra.NoArgs,
		RunE: opts.withClient(func(cmd *cobra.Command, _ []string, c client.Client) error {
			resp, err := c.ListWorkflow(cmd.Context(), &workflowservice.ListWorkflowExecutionsRequest{
				Query: fmt.Sprintf("WorkflowType = '%s'", workflows.PipelineWorkflowName), PageSize: 50})
			if err != nil {
				return fmt.Errorf("list pipelines: %w", err)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPIPELINE\tSTATUS\tSTARTED")
			for _, e := range resp.GetExecutions() {
				sa := e.GetSearchAttributes().GetIndexedFields()
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.GetExecution().GetWorkflowId(), str(sa["KindlingJobName"]), e.GetStatus(), e.GetStartTime().AsTime().Local().Format(time.DateTime))
			}
			return tw.Flush()
		}),
	}
}

func newPipelineCancelCmd(opts *temporalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a pipeline: its running jobs are cancelled and cleaned up; onExit still runs",
		Args:  cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			if err := c.CancelWorkflow(cmd.Context(), args[0], ""); err != nil {
				return fmt.Errorf("cancel pipeline %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cancel requested for pipeline %s\n", args[0])
			return nil
		}),
	}
}
