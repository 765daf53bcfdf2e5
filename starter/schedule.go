package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/pipeline"
	"github.com/kindling-dev/kindling/k8s/schedule"
	"github.com/kindling-dev/kindling/workflows"
)

// Exit codes of `kindling schedule`: 0 done, 1 Temporal failed us, 2 the input is wrong,
// 3 no such schedule.
const (
	exitInvalid  = 2
	exitNotFound = 3
)

func newScheduleCmd(opts *temporalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run Spark jobs on a schedule (ScheduledSparkApplication on Temporal Schedules)",
		Long: "schedule runs ScheduledSparkApplication manifests on Temporal Schedules: apply creates or " +
			"updates one, and each run is a SparkJob workflow that knows the logical date it stands for " +
			"({{ ds }} and friends in arguments, sparkConf and env). Schedules show on the Temporal UI's " +
			"Schedules page.\n\nExit codes: 0 done, 1 Temporal failed, 2 invalid input, 3 no such schedule.",
	}
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "text", "text, json or yaml")
	cmd.AddCommand(
		newScheduleApplyCmd(opts, &output),
		newScheduleListCmd(opts, &output),
		newScheduleDescribeCmd(opts, &output),
		newSchedulePauseCmd(opts, true),
		newSchedulePauseCmd(opts, false),
		newScheduleTriggerCmd(opts),
		newScheduleBackfillCmd(opts, &output),
		newScheduleDeleteCmd(opts),
	)
	return cmd
}

// printAs prints v as JSON or YAML; for text it calls text.
func printAs(w io.Writer, output string, v any, text func() error) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "text", "":
		return text()
	}
	return exitError{code: exitInvalid, err: fmt.Errorf("--output %q: use text, json or yaml", output)}
}

// scheduleError turns Temporal's not-found into exit code 3.
func scheduleError(id string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return exitError{code: exitNotFound, err: fmt.Errorf("no schedule %s (`kindling schedule list` shows them)", id)}
	}
	return fmt.Errorf("schedule %s: %w", id, err)
}

func newScheduleApplyCmd(opts *temporalOptions, output *string) *cobra.Command {
	var file, taskQueue string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create a schedule from a ScheduledSparkApplication (or a SparkPipeline with spec.schedule), or update it in place",
		Long: "apply checks the manifest (every problem at once, before anything is created), then creates " +
			"the schedule <namespace>.<name>, or updates it when it exists. Kindling settings ride as annotations: " +
			workflows.AnnotationCatchupWindow + " (default " + workflows.DefaultCatchupWindow.String() + "), " +
			workflows.AnnotationJitter + " (default 0), " + workflows.AnnotationPauseOnFailure + " (default false).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sj, err := readScheduleFile(file, taskQueue)
			if err != nil {
				return err
			}
			for _, w := range sj.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			next := nextTimes(sj.Cron, time.Now(), 5)
			if dryRun {
				return printAs(cmd.OutOrStdout(), *output, map[string]any{"id": sj.ID, "next": next}, func() error {
					fmt.Fprintf(cmd.OutOrStdout(), "schedule %s is valid (nothing applied); next runs:\n", sj.ID)
					printTimes(cmd.OutOrStdout(), next, sj.Cron.Location())
					return nil
				})
			}
			c, err := opts.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			created, err := workflows.ApplySchedule(cmd.Context(), c, sj)
			if err != nil {
				return err
			}
			verb := "updated"
			if created {
				verb = "created"
			}
			return printAs(cmd.OutOrStdout(), *output, map[string]any{"id": sj.ID, "result": verb, "next": next}, func() error {
				fmt.Fprintf(cmd.OutOrStdout(), "schedule %s %s\n  %s\n", sj.ID, verb, opts.scheduleURL(sj.ID))
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "ScheduledSparkApplication manifest (YAML or JSON)")
	cmd.Flags().StringVar(&taskQueue, "task-queue", workflows.TaskQueue, "task queue the runs start on")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the manifest and print the next runs; apply nothing")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func readScheduleFile(file, taskQueue string) (*workflows.ScheduledJob, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, exitError{code: exitInvalid, err: fmt.Errorf("read %s: %w", file, err)}
	}
	var tm struct {
		Kind string `json:"kind"`
	}
	if yaml.Unmarshal(data, &tm) == nil && tm.Kind == pipeline.Kind {
		p, err := pipeline.Read(file)
		if err != nil {
			return nil, exitError{code: exitInvalid, err: err}
		}
		sj, err := workflows.PlanPipelineSchedule(p, taskQueue)
		if err != nil {
			return nil, exitError{code: exitInvalid, err: fmt.Errorf("%s: %w", file, err)}
		}
		return sj, nil
	}
	s, unknown, err := job.ReadScheduled(data)
	if err != nil {
		return nil, exitError{code: exitInvalid, err: fmt.Errorf("%s: %w", file, err)}
	}
	sj, err := workflows.PlanSchedule(s, unknown, taskQueue)
	if err != nil {
		return nil, exitError{code: exitInvalid, err: fmt.Errorf("%s: %w", file, err)}
	}
	return sj, nil
}

func nextTimes(c *schedule.Cron, from time.Time, n int) []time.Time {
	var out []time.Time
	for t := from; len(out) < n; {
		t = c.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

func printTimes(w io.Writer, ts []time.Time, loc *time.Location) {
	for _, t := range ts {
		fmt.Fprintf(w, "  %s\n", t.In(loc).Format("Mon 2006-01-02 15:04:05 MST"))
	}
}

// scheduleURL is the schedule's page in the Temporal UI.
func (o *temporalOptions) scheduleURL(id string) string {
	return fmt.Sprintf("%s/namespaces/%s/schedules/%s", strings.TrimRight(o.uiURL, "/"), o.namespace, id)
}

// scheduleView is what list and describe print of a schedule.
type scheduleView struct {
	ID                string      `json:"id"`
	Job               string      `json:"job"`
	Schedule          string      `json:"schedule"`
	TimeZone          string      `json:"timeZone"`
	ConcurrencyPolicy string      `json:"concurrencyPolicy"`
	CatchupWindow     string      `json:"catchupWindow"`
	Jitter            string      `json:"jitter,omitempty"`
	PauseOnFailure    bool        `json:"pauseOnFailure"`
	Paused            bool        `json:"paused"`
	Note              string      `json:"note,omitempty"`
	Next              []time.Time `json:"next"`
	Runs              int         `json:"runs"`
	SkippedOverlap    int         `json:"skippedOverlap"`
	MissedCatchup     int         `json:"missedCatchupWindow"`
	Recent            []runView   `json:"recent,omitempty"`
	location          *time.Location
}

type runView struct {
	LogicalDate string `json:"logicalDate"`
	Nominal     string `json:"nominal"`
	WorkflowID  string `json:"workflowId"`
	RunID       string `json:"runId"`
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"`
}

// viewSchedule reads a schedule's description into a view; a schedule that is not a Kindling
// job's gives ok false.
func viewSchedule(dc converter.DataConverter, id string, d *client.ScheduleDescription) (scheduleView, bool) {
	v := scheduleView{ID: id, Paused: d.Schedule.State != nil && d.Schedule.State.Paused,
		Runs: d.Info.NumActions, SkippedOverlap: d.Info.NumActionsSkippedOverlap, MissedCatchup: d.Info.NumActionsMissedCatchupWindow,
		Next: d.Info.NextActionTimes, location: time.UTC}
	if d.Schedule.State != nil {
		v.Note = d.Schedule.State.Note
	}
	act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || len(act.Args) < 2 {
		return v, false
	}
	var spec job.JobSpec
	var carry workflows.Carry
	if decodeArg(dc, act.Args[0], &spec) != nil || decodeArg(dc, act.Args[1], &carry) != nil || carry.Schedule == nil {
		return v, false
	}
	v.Job = spec.Namespace + "/" + spec.Name
	v.Schedule = carry.Schedule.Cron
	if c, _, err := schedule.Parse(carry.Schedule.Cron, carry.Schedule.TimeZone); err == nil {
		v.TimeZone, v.location = c.TimeZone, c.Location()
	}
	if p := d.Schedule.Policy; p != nil {
		v.ConcurrencyPolicy = concurrencyName(p.Overlap)
		v.CatchupWindow = p.CatchupWindow.String()
		v.PauseOnFailure = p.PauseOnFailure
	}
	if d.Schedule.Spec != nil && d.Schedule.Spec.Jitter > 0 {
		v.Jitter = d.Schedule.Spec.Jitter.String()
	}
	return v, true
}

func decodeArg(dc converter.DataConverter, arg any, into any) error {
	p, ok := arg.(*commonpb.Payload)
	if !ok {
		b, err := json.Marshal(arg)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, into)
	}
	return dc.FromPayload(p, into)
}

func concurrencyName(p enumspb.ScheduleOverlapPolicy) string {
	switch p {
	case enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL:
		return job.ConcurrencyAllow
	case enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER:
		return job.ConcurrencyReplace
	case enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED:
		return job.ConcurrencyForbid
	}
	return p.String()
}

func newScheduleListCmd(opts *temporalOptions, output *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the Spark job schedules",
		Args:  cobra.NoArgs,
		RunE: opts.withClient(func(cmd *cobra.Command, _ []string, c client.Client) error {
			ctx := cmd.Context()
			it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 100})
			if err != nil {
				return fmt.Errorf("list schedules: %w", err)
			}
			views := []scheduleView{}
			for it.HasNext() {
				e, err := it.Next()
				if err != nil {
					return fmt.Errorf("list schedules: %w", err)
				}
				if e.WorkflowType.Name != workflows.WorkflowName {
					continue
				}
				d, err := c.ScheduleClient().GetHandle(ctx, e.ID).Describe(ctx)
				if err != nil {
					continue // deleted since it was listed
				}
				if v, ok := viewSchedule(opts.dc, e.ID, d); ok {
					views = append(views, v)
				}
			}
			return printAs(cmd.OutOrStdout(), *output, views, func() error {
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSCHEDULE\tTIME ZONE\tPAUSED\tRUNS\tNEXT RUN")
				for _, v := range views {
					next := "-"
					if len(v.Next) > 0 && !v.Paused {
						next = v.Next[0].In(v.location).Format("2006-01-02 15:04 MST")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%s\n", v.ID, v.Schedule, v.TimeZone, v.Paused, v.Runs, next)
				}
				return tw.Flush()
			})
		}),
	}
}

func newScheduleDescribeCmd(opts *temporalOptions, output *string) *cobra.Command {
	var runs int
	cmd := &cobra.Command{
		Use:   "describe ID",
		Short: "Show a schedule: when it runs, its next runs and its last runs with their state",
		Args:  cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			ctx := cmd.Context()
			d, err := c.ScheduleClient().GetHandle(ctx, args[0]).Describe(ctx)
			if err != nil {
				return scheduleError(args[0], err)
			}
			v, ok := viewSchedule(opts.dc, args[0], d)
			if !ok {
				return exitError{code: exitNotFound, err: fmt.Errorf("schedule %s does not run a Kindling Spark job", args[0])}
			}
			if len(v.Next) > 5 {
				v.Next = v.Next[:5]
			}
			recent, err := workflows.ScheduleRuns(ctx, c, args[0], time.Time{}, time.Time{}, runs)
			if err != nil {
				return err
			}
			for _, r := range recent {
				v.Recent = append(v.Recent, viewRun(ctx, c, opts.dc, r, v.location))
			}
			return printAs(cmd.OutOrStdout(), *output, v, func() error { return describeText(cmd.OutOrStdout(), v, opts) })
		}),
	}
	cmd.Flags().IntVar(&runs, "runs", 10, "how many of the last runs to show")
	return cmd
}

// viewRun gives a run's logical date (from its result or its search attributes) and, for a
// run that failed, the reason.
func viewRun(ctx context.Context, c client.Client, dc converter.DataConverter, r workflows.ScheduledRun, loc *time.Location) runView {
	v := runView{Nominal: r.Nominal.In(loc).Format(time.RFC3339), WorkflowID: r.WorkflowID, RunID: r.RunID, State: r.State}
	if r.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if st, err := queryStatus(ctx, c, dc, r.WorkflowID, r.RunID); err == nil && st.Dates != nil {
			v.LogicalDate = st.Dates.Values()["ds"]
		}
		return v
	}
	var res workflows.JobResult
	err := c.GetWorkflow(ctx, r.WorkflowID, r.RunID).Get(ctx, &res)
	if err != nil {
		if fr, ok := workflows.ResultFromError(err); ok {
			res = fr
		} else {
			v.Reason = unwrapApp(err).Error()
		}
	}
	if res.Dates != nil {
		v.LogicalDate = res.Dates.Values()["ds"]
	}
	if res.Reason != "" {
		v.Reason = res.Reason
	}
	return v
}

func describeText(w io.Writer, v scheduleView, opts *temporalOptions) error {
	fmt.Fprintf(w, "Schedule      %s  (%s)\n", v.ID, opts.scheduleURL(v.ID))
	fmt.Fprintf(w, "Job           %s\n", v.Job)
	fmt.Fprintf(w, "When          %s, in %s\n", v.Schedule, v.TimeZone)
	fmt.Fprintf(w, "Overlap       %s (concurrencyPolicy)\n", v.ConcurrencyPolicy)
	fmt.Fprintf(w, "Catch-up      %s", v.CatchupWindow)
	if v.Jitter != "" {
		fmt.Fprintf(w, "   jitter %s", v.Jitter)
	}
	fmt.Fprintf(w, "   pause on failure: %v\n", v.PauseOnFailure)
	state := "active"
	if v.Paused {
		state = "PAUSED"
	}
	fmt.Fprintf(w, "State         %s\n", state)
	if v.Note != "" {
		fmt.Fprintf(w, "Note          %s\n", v.Note)
	}
	fmt.Fprintf(w, "Runs          %d started (on time or triggered), %d skipped (the last still running), %d missed (late beyond catch-up)\n",
		v.Runs, v.SkippedOverlap, v.MissedCatchup)
	if len(v.Next) > 0 {
		if v.Jitter != "" {
			fmt.Fprintln(w, "Next runs (their jitter included)")
		} else {
			fmt.Fprintln(w, "Next runs")
		}
		printTimes(w, v.Next, v.location)
	}
	if len(v.Recent) > 0 {
		fmt.Fprintln(w, "Last runs")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  LOGICAL DATE\tWORKFLOW ID\tSTATE\tREASON")
		for _, r := range v.Recent {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", orDash(r.LogicalDate), r.WorkflowID, r.State, r.Reason)
		}
		return tw.Flush()
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newSchedulePauseCmd(opts *temporalOptions, pause bool) *cobra.Command {
	var note string
	use, short := "resume ID", "Resume a paused schedule"
	if pause {
		use, short = "pause ID", "Pause a schedule: no run starts until it is resumed"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			h := c.ScheduleClient().GetHandle(cmd.Context(), args[0])
			verb := "resumed"
			var err error
			if pause {
				verb = "paused"
				err = h.Pause(cmd.Context(), client.SchedulePauseOptions{Note: orDefault(note, "paused with kindling schedule pause")})
			} else {
				err = h.Unpause(cmd.Context(), client.ScheduleUnpauseOptions{Note: orDefault(note, "resumed with kindling schedule resume")})
			}
			if err != nil {
				return scheduleError(args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "schedule %s %s\n", args[0], verb)
			return nil
		}),
	}
	cmd.Flags().StringVar(&note, "note", "", "why, shown with the schedule")
	return cmd
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func newScheduleTriggerCmd(opts *temporalOptions) *cobra.Command {
	return newScheduleHandleCmd(opts, "trigger ID", "Start a run now, as the schedule would (its concurrency policy applies)",
		func(ctx context.Context, h client.ScheduleHandle) error {
			return h.Trigger(ctx, client.ScheduleTriggerOptions{})
		},
		"schedule %[1]s triggered: a run starts now (`kindling schedule describe %[1]s` shows it)")
}

func newScheduleDeleteCmd(opts *temporalOptions) *cobra.Command {
	return newScheduleHandleCmd(opts, "delete ID", "Delete a schedule; runs already started go on",
		func(ctx context.Context, h client.ScheduleHandle) error { return h.Delete(ctx) },
		"schedule %[1]s deleted")
}

// newScheduleHandleCmd is a command that does one thing to the schedule it names and says so.
func newScheduleHandleCmd(opts *temporalOptions, use, short string, do func(context.Context, client.ScheduleHandle) error, done string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			if err := do(cmd.Context(), c.ScheduleClient().GetHandle(cmd.Context(), args[0])); err != nil {
				return scheduleError(args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), done+"\n", args[0])
			return nil
		}),
	}
}

func newScheduleBackfillCmd(opts *temporalOptions, output *string) *cobra.Command {
	var from, to, reprocess string
	var maxActive int
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "backfill ID --from DATE --to DATE",
		Short: "Run the schedule for past logical dates that have no run (safe to repeat)",
		Long: "backfill runs the schedule for each logical date from --from to --to (inclusive; dates or " +
			"RFC 3339 times, in the schedule's time zone). Dates that already have a run are left alone unless " +
			"--reprocess says otherwise: none (default) runs only dates without a run, failed also dates whose " +
			"last run did not complete, all every date. A date whose run is still running is never started twice.",
		Args: cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			id := args[0]
			ctx := cmd.Context()
			d, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
			if err != nil {
				return scheduleError(id, err)
			}
			v, ok := viewSchedule(opts.dc, id, d)
			if !ok {
				return exitError{code: exitNotFound, err: fmt.Errorf("schedule %s does not run a Kindling Spark job", id)}
			}
			act := d.Schedule.Action.(*client.ScheduleWorkflowAction)
			var carry workflows.Carry
			_ = decodeArg(opts.dc, act.Args[1], &carry)
			cron, _, err := schedule.Parse(carry.Schedule.Cron, carry.Schedule.TimeZone)
			if err != nil {
				return fmt.Errorf("schedule %s: %w", id, err)
			}
			start, err := parseWhen("--from", from, cron.Location())
			if err != nil {
				return err
			}
			end, err := parseWhen("--to", to, cron.Location())
			if err != nil {
				return err
			}
			if _, err := time.Parse(time.DateOnly, to); err == nil {
				end = end.AddDate(0, 0, 1).Add(-time.Nanosecond) // a date: the whole day
			}
			if maxActive < 0 {
				return exitError{code: exitInvalid, err: fmt.Errorf("--max-active must be 0 (all at once) or more, got %d", maxActive)}
			}
			// Runs of these dates fire from the first date's next time to the last's.
			runs, err := workflows.ScheduleRuns(ctx, c, id, cron.Next(start.Add(-time.Nanosecond)), cron.Next(cron.Next(end)), 0)
			if err != nil {
				return err
			}
			plan, err := workflows.PlanBackfill(cron, start, end, workflows.LastRuns(runs), reprocess)
			if err != nil {
				return exitError{code: exitInvalid, err: err}
			}
			w := cmd.OutOrStdout()
			result := backfillView{Schedule: id, Run: []string{}, Skipped: map[string]string{}}
			for _, t := range plan.Run {
				result.Run = append(result.Run, logicalOf(cron, t))
			}
			for t, why := range plan.Skip {
				result.Skipped[logicalOf(cron, t)] = why
			}
			if !dryRun && len(plan.Run) > 0 {
				err = workflows.Backfill(ctx, c, id, plan.Run, maxActive, func(t time.Time) {
					if *output == "text" {
						fmt.Fprintf(w, "started %s (logical date %s)\n", workflows.ScheduledWorkflowID(id, t), logicalOf(cron, t))
					}
				})
				if err != nil {
					return err
				}
			}
			_ = v
			return printAs(w, *output, result, func() error {
				verb := "started"
				if dryRun {
					verb = "would start"
				}
				fmt.Fprintf(w, "backfill of %s: %s %d run(s)", id, verb, len(plan.Run))
				if dryRun && len(result.Run) > 0 {
					fmt.Fprintf(w, " for %s", strings.Join(result.Run, ", "))
				}
				fmt.Fprintf(w, "; left %d date(s) that have a run", len(plan.Skip))
				if len(plan.Skip) > 0 && reprocess == workflows.ReprocessNone {
					fmt.Fprint(w, " (--reprocess failed|all runs them again)")
				}
				fmt.Fprintln(w)
				return nil
			})
		}),
	}
	cmd.Flags().StringVar(&from, "from", "", "first logical date (2026-11-01, or an RFC 3339 time)")
	cmd.Flags().StringVar(&to, "to", "", "last logical date, inclusive (a date takes in the whole day)")
	cmd.Flags().StringVar(&reprocess, "reprocess", workflows.ReprocessNone, "which dates that have a run to run again: none, failed or all")
	cmd.Flags().IntVar(&maxActive, "max-active", 1, "most backfill runs at once (0: all at once)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would run; start nothing")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

type backfillView struct {
	Schedule string            `json:"schedule"`
	Run      []string          `json:"run"`     // logical dates started (or, with --dry-run, to start)
	Skipped  map[string]string `json:"skipped"` // logical date → the state of its run
}

// logicalOf is the logical date (the data interval's start) of the run fired at nominal.
func logicalOf(c *schedule.Cron, nominal time.Time) string {
	if prev, ok := c.Prev(nominal); ok {
		return prev.In(c.Location()).Format(time.RFC3339)
	}
	return nominal.In(c.Location()).Format(time.RFC3339)
}

// parseWhen reads a date (midnight in loc) or an RFC 3339 time.
func parseWhen(flag, s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, exitError{code: exitInvalid, err: fmt.Errorf("%s %q: give a date (2026-11-01) or an RFC 3339 time (2026-11-01T02:00:00Z)", flag, s)}
}
