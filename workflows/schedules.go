package workflows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/pipeline"
	"github.com/kindling-dev/kindling/k8s/render"
	"github.com/kindling-dev/kindling/k8s/schedule"
)

// A ScheduledSparkApplication's Kindling settings, as metadata annotations.
const (
	// AnnotationCatchupWindow: how late a run may still start after Temporal could not start
	// it on time (the server was down); older runs are counted as missed and left to backfill.
	AnnotationCatchupWindow = "kindling.dev/catchup-window"
	// AnnotationJitter spreads each run's start by up to this much; its logical date stays.
	AnnotationJitter = "kindling.dev/jitter"
	// AnnotationPauseOnFailure "true": a failed run pauses the schedule.
	AnnotationPauseOnFailure = "kindling.dev/pause-on-failure"
)

// DefaultCatchupWindow replaces Temporal's one-year default: after a day-long outage a nightly
// job runs once, not once per missed night; `kindling schedule backfill` runs the rest.
const DefaultCatchupWindow = 6 * time.Hour

// minCatchupWindow is the least the Temporal server takes.
const minCatchupWindow = 10 * time.Second

// ScheduleID is the Temporal schedule of a ScheduledSparkApplication: one per namespace and
// name, so applying the same manifest again updates it. Its runs' workflow IDs are this ID
// followed by the run's nominal time.
func ScheduleID(namespace, name string) string { return namespace + "." + name }

// ScheduledJob is a ScheduledSparkApplication made ready for Temporal.
type ScheduledJob struct {
	ID       string
	Cron     *schedule.Cron
	Options  client.ScheduleOptions
	Warnings []string
}

// PlanSchedule checks a ScheduledSparkApplication, every problem at once with its field, and
// gives the Temporal schedule it becomes. Its runs start SparkJob on taskQueue.
func PlanSchedule(s *job.Scheduled, unknown field.ErrorList, taskQueue string) (*ScheduledJob, error) {
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	spec := s.Job.DeepCopy()
	spec.Name, spec.Namespace = s.Name, s.Namespace
	checked := spec.DeepCopy()
	job.Default(checked)
	errs := append(field.ErrorList{}, unknown...)
	for _, e := range render.Problems(checked) {
		// The job's fields sit under spec.template in a ScheduledSparkApplication.
		if strings.HasPrefix(e.Field, "spec.") {
			e.Field = "spec.template." + strings.TrimPrefix(e.Field, "spec.")
		}
		errs = append(errs, e)
	}
	var warnings []string
	for _, w := range render.Warnings(checked) {
		warnings = append(warnings, "spec.template: "+w)
	}
	return planSchedule(s.Name, s.Namespace, s.Spec, s.Annotations, errs, warnings, taskQueue, "Spark job", func(ref *ScheduleRef) *client.ScheduleWorkflowAction {
		return &client.ScheduleWorkflowAction{
			Workflow: WorkflowName,
			Args:     []any{*spec, Carry{Schedule: ref}},
			TypedSearchAttributes: temporal.NewSearchAttributes(
				SearchAttrJobName.ValueSet(spec.Name),
				SearchAttrNamespace.ValueSet(spec.Namespace),
				SearchAttrState.ValueSet(StateRunning),
			),
			StaticSummary: Summary(checked) + " · schedule " + ref.ID,
		}
	})
}

// PlanAppSchedule is a ScheduledSparkApplication in controller mode: the Temporal schedule id
// whose runs create a SparkApplication owned by the object (uid) at each fire time
// (ScheduledAppRun), as the operator does.
func PlanAppSchedule(s *job.Scheduled, labels map[string]string, uid, id, taskQueue string) (*ScheduledJob, error) {
	spec := s.Job.DeepCopy()
	spec.Name, spec.Namespace = s.Name, s.Namespace
	checked := spec.DeepCopy()
	checked.Driver.PodName = "" // each run's object names its own driver
	checked.Suspend = nil       // each run's object is made suspended, as the operator makes it
	job.Default(checked)
	var errs field.ErrorList
	for _, e := range render.Problems(checked) {
		if strings.HasPrefix(e.Field, "spec.") {
			e.Field = "spec.template." + strings.TrimPrefix(e.Field, "spec.")
		}
		errs = append(errs, e)
	}
	in := ScheduledAppRunInput{Namespace: s.Namespace, Name: s.Name, UID: uid, Labels: labels, Template: s.Job.SparkApplicationSpec}
	sj, err := planSchedule(s.Name, s.Namespace, s.Spec, s.Annotations, errs, nil, taskQueue, "ScheduledSparkApplication", func(ref *ScheduleRef) *client.ScheduleWorkflowAction {
		return &client.ScheduleWorkflowAction{
			Workflow: ScheduledAppRunWorkflowName,
			Args:     []any{in},
			TypedSearchAttributes: temporal.NewSearchAttributes(
				SearchAttrJobName.ValueSet(s.Name),
				SearchAttrNamespace.ValueSet(s.Namespace),
			),
			StaticSummary: fmt.Sprintf("ScheduledSparkApplication %s/%s: creates this run's SparkApplication, which the controller runs", s.Namespace, s.Name),
		}
	})
	if err != nil {
		return nil, err
	}
	sj.ID, sj.Options.ID, sj.Options.Action.(*client.ScheduleWorkflowAction).ID = id, id, id
	sj.Options.Note = fmt.Sprintf("ScheduledSparkApplication %s/%s (controller mode)", s.Namespace, s.Name)
	if sj.Options.Paused {
		sj.Options.Note = "suspended: spec.suspend is true"
	}
	return sj, nil
}

// PlanPipelineSchedule checks a SparkPipeline with a spec.schedule and gives the Temporal
// schedule it becomes: each run is a pipeline whose tasks share the run's logical date.
func PlanPipelineSchedule(p *pipeline.Spec, taskQueue string) (*ScheduledJob, error) {
	if p.Schedule == nil {
		return nil, fmt.Errorf("pipeline %s has no spec.schedule: `kindling pipeline submit` runs it once", p.Name)
	}
	errs := pipeline.Check(p, render.Problems)
	return planSchedule(p.Name, p.Namespace, *p.Schedule, p.Annotations, errs, nil, taskQueue, "Spark pipeline", func(ref *ScheduleRef) *client.ScheduleWorkflowAction {
		return &client.ScheduleWorkflowAction{
			Workflow: PipelineWorkflowName,
			Args:     []any{*p, Carry{Schedule: ref}},
			TypedSearchAttributes: temporal.NewSearchAttributes(
				SearchAttrJobName.ValueSet(p.Name),
				SearchAttrNamespace.ValueSet(p.Namespace),
				SearchAttrState.ValueSet(StateRunning),
			),
			StaticSummary: fmt.Sprintf("pipeline %s in %s · %d tasks · schedule %s", p.Name, p.Namespace, len(p.Tasks), ref.ID),
		}
	})
}

// planSchedule checks a schedule's own fields and settings beside the problems found in what
// it runs, and builds the schedule whose action is made by action.
func planSchedule(name, namespace string, sched job.ScheduledSparkApplicationSpec, annotations map[string]string, errs field.ErrorList,
	warnings []string, taskQueue, what string, action func(*ScheduleRef) *client.ScheduleWorkflowAction) (*ScheduledJob, error) {
	if name == "" {
		errs = append(errs, job.Invalid(field.NewPath("metadata", "name"), "is required"))
	}
	cron, cronWarnings, err := schedule.Parse(sched.Schedule, sched.TimeZone)
	if err != nil {
		// The schedule package names the field (spec.schedule or spec.timeZone) itself.
		path, msg := job.ScheduledSpecPath.Child("schedule"), err.Error()
		if f, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(f, "spec.") {
			path, msg = field.NewPath("spec", strings.TrimPrefix(f, "spec.")), rest
		}
		errs = append(errs, job.Invalid(path, "%s", msg))
	}
	errs = append(errs, job.CheckScheduled(&job.Scheduled{Spec: sched})...)
	settings, problems := scheduleSettings(annotations)
	errs = append(errs, problems...)
	if len(errs) > 0 {
		return nil, job.Errors(errs)
	}
	warnings = append(cronWarnings, warnings...)
	if sched.ConcurrencyPolicy == "" {
		warnings = append(warnings, "spec.concurrencyPolicy is not set: Kindling skips a run while the last one still runs (Forbid); the operator would start no run after the first")
	}

	id := ScheduleID(namespace, name)
	ref := &ScheduleRef{ID: id, Cron: sched.Schedule, TimeZone: sched.TimeZone,
		SuccessfulRunHistoryLimit: sched.SuccessfulRunHistoryLimit, FailedRunHistoryLimit: sched.FailedRunHistoryLimit}
	act := action(ref)
	act.ID, act.TaskQueue = id, taskQueue
	temporalSpec := cron.Spec()
	temporalSpec.Jitter = settings.jitter
	opts := client.ScheduleOptions{
		ID:             id,
		Spec:           temporalSpec,
		Overlap:        overlapPolicy(sched.ConcurrencyPolicy),
		CatchupWindow:  settings.catchupWindow,
		PauseOnFailure: settings.pauseOnFailure,
		Paused:         sched.Suspend != nil && *sched.Suspend,
		Action:         act,
		Memo:           map[string]any{"kindling": ScheduleMemo{Namespace: namespace, Name: name}},
	}
	opts.Note = fmt.Sprintf("%s %s/%s, %q in %s (kindling schedule apply)", what, namespace, name, sched.Schedule, cron.TimeZone)
	if opts.Paused {
		opts.Note = "suspended: spec.suspend is true"
	}
	return &ScheduledJob{ID: id, Cron: cron, Options: opts, Warnings: warnings}, nil
}

// ScheduleMemo marks a Temporal schedule as a Kindling job's.
type ScheduleMemo struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Summary is the one line the Temporal UI shows for a job's run in its list.
func Summary(s *job.JobSpec) string {
	out := fmt.Sprintf("%s in %s · %s", s.Name, s.Namespace, s.Type)
	if s.Executor.Instances != nil {
		out += fmt.Sprintf(" · %d executors", *s.Executor.Instances)
	}
	if s.DynamicAllocation != nil && s.DynamicAllocation.Enabled {
		out += " · dynamic allocation"
	}
	return out
}

// overlapPolicy maps the operator's concurrencyPolicy. Replace cancels the running job, never
// terminates it: a terminated workflow runs no cleanup and its driver would live on. Unset
// skips, where the operator would never start another run.
func overlapPolicy(p string) enumspb.ScheduleOverlapPolicy {
	switch p {
	case job.ConcurrencyAllow:
		return enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL
	case job.ConcurrencyReplace:
		return enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER
	}
	return enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
}

type settings struct {
	catchupWindow, jitter time.Duration
	pauseOnFailure        bool
}

func scheduleSettings(annotations map[string]string) (settings, field.ErrorList) {
	out := settings{catchupWindow: DefaultCatchupWindow}
	var errs field.ErrorList
	at := func(k string) *field.Path { return field.NewPath("metadata", "annotations").Key(k) }
	if v, ok := annotations[AnnotationCatchupWindow]; ok {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, job.Invalid(at(AnnotationCatchupWindow), "%q is not a duration such as 30m or 6h", v))
		case d < minCatchupWindow:
			errs = append(errs, job.Invalid(at(AnnotationCatchupWindow), "must be at least %s (Temporal's least), got %s", minCatchupWindow, v))
		default:
			out.catchupWindow = d
		}
	}
	if v, ok := annotations[AnnotationJitter]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, job.Invalid(at(AnnotationJitter), "%q is not a duration of 0 or more such as 5m", v))
		}
		out.jitter = d
	}
	if v, ok := annotations[AnnotationPauseOnFailure]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, job.Invalid(at(AnnotationPauseOnFailure), "must be true or false, got %q", v))
		}
		out.pauseOnFailure = b
	}
	return out, errs
}

// ApplySchedule creates the schedule, or updates it in place when it exists: its spec, action
// and policies become the manifest's. A schedule paused by spec.suspend is paused; one paused
// otherwise (by hand, or by a failed run) stays paused, and a suspend removed from the
// manifest does not resume it: `kindling schedule resume` does. It says whether it created.
func ApplySchedule(ctx context.Context, c client.Client, sj *ScheduledJob) (created bool, err error) {
	sc := c.ScheduleClient()
	_, err = sc.Create(ctx, sj.Options)
	var exists *serviceerror.AlreadyExists
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) && !errors.As(err, &exists) {
		return false, fmt.Errorf("create schedule %s: %w", sj.ID, err)
	}
	o := sj.Options
	err = sc.GetHandle(ctx, sj.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec = &o.Spec
			s.Action = o.Action
			s.Policy = &client.SchedulePolicies{Overlap: o.Overlap, CatchupWindow: o.CatchupWindow, PauseOnFailure: o.PauseOnFailure}
			if s.State == nil {
				s.State = &client.ScheduleState{}
			}
			if o.Paused && !s.State.Paused {
				s.State.Paused, s.State.Note = true, o.Note
			}
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return false, fmt.Errorf("update schedule %s: %w", sj.ID, err)
	}
	return false, nil
}
