package activities

import (
	"context"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/pipeline"
	"github.com/kindling-dev/kindling/k8s/render"
	"github.com/kindling-dev/kindling/k8s/schedule"
)

// Validate applies the operator's defaults and checks every field (render.Validate). A bad
// spec is a non-retryable ErrInvalidSpec whose message lists every problem, field by field.
func (a *Activities) Validate(_ context.Context, in ValidateInput) (ValidateOutput, error) {
	spec := in.Spec
	templated := job.UsesTemplates(&spec)
	dates, err := ResolveDates(in.Dates, templated)
	if err != nil {
		return ValidateOutput{}, temporal.NewNonRetryableApplicationError("the run's dates: "+err.Error(), ErrInvalidSpec, nil)
	}
	// Unknown templates are left for render.Validate, which lists them with every other problem.
	if dates != nil && templated && len(job.TemplateProblems(&spec)) == 0 {
		filled, err := job.FillTemplates(&spec, *dates)
		if err != nil {
			return ValidateOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidSpec, nil)
		}
		spec = *filled
	}
	job.Default(&spec)
	if err := job.Errors(a.problems(&spec)); err != nil {
		return ValidateOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidSpec, nil)
	}
	return ValidateOutput{Spec: spec, Dates: dates}, nil
}

// ResolveDates gives the dates a run stands for (DatesInput says which source wins), or nil
// for a run that stands for none: no schedule, no date given and no template to fill.
//
// A scheduled run fired at nominal time T covers [the schedule's previous fire time, T) in the
// schedule's time zone, and its logical date is that interval's start, as in Airflow. A run
// started by hand from a schedule (trigger) between two fire times covers the last whole
// interval before it. A date given by hand covers that day.
func ResolveDates(in DatesInput, templated bool) (*job.Dates, error) {
	switch {
	case in.Given != nil:
		return in.Given, nil
	case in.LogicalDate != nil:
		l := *in.LogicalDate
		return &job.Dates{LogicalDate: l, DataIntervalStart: l, DataIntervalEnd: l.AddDate(0, 0, 1)}, nil
	case in.Nominal != nil && in.Schedule != "":
		c, _, err := schedule.Parse(in.Schedule, in.TimeZone)
		if err != nil {
			return nil, err
		}
		end := in.Nominal.In(c.Location())
		if !c.Next(end.Add(-time.Second)).Equal(end) {
			if prev, ok := c.Prev(end); ok {
				end = prev // started between two fire times: the last whole interval
			}
		}
		start, ok := c.Prev(end)
		if !ok {
			start = end
		}
		return &job.Dates{LogicalDate: start, DataIntervalStart: start, DataIntervalEnd: end}, nil
	case in.Nominal != nil:
		t := in.Nominal.UTC()
		return &job.Dates{LogicalDate: t, DataIntervalStart: t, DataIntervalEnd: t}, nil
	case templated:
		t := in.Started.UTC()
		return &job.Dates{LogicalDate: t, DataIntervalStart: t, DataIntervalEnd: t}, nil
	}
	return nil, nil
}

// ValidatePipelineInput is a pipeline and what its run knows of the dates it stands for.
type ValidatePipelineInput struct {
	Spec  pipeline.Spec
	Dates DatesInput `json:",omitzero"`
}

// ValidatePipelineOutput holds the dates every task of the run stands for, if any.
type ValidatePipelineOutput struct {
	Dates *job.Dates `json:",omitempty"`
}

// ValidatePipeline checks a pipeline (pipeline.Check with every task's job rules) and resolves
// the dates its run stands for (ResolveDates), which every task then shares. A bad pipeline
// is a non-retryable ErrInvalidSpec listing every problem, before any task starts.
func (a *Activities) ValidatePipeline(_ context.Context, in ValidatePipelineInput) (ValidatePipelineOutput, error) {
	s := in.Spec
	templated := false
	for _, t := range append(append([]pipeline.Task{}, s.Tasks...), optional(s.OnExit)...) {
		templated = templated || t.UsesDates()
	}
	dates, err := ResolveDates(in.Dates, templated)
	if err != nil {
		return ValidatePipelineOutput{}, temporal.NewNonRetryableApplicationError("the run's dates: "+err.Error(), ErrInvalidSpec, nil)
	}
	// Every task's job is checked with this worker's rules, its namespace limits included.
	if errs := pipeline.Check(&s, a.problems); len(errs) > 0 {
		return ValidatePipelineOutput{}, temporal.NewNonRetryableApplicationError(pipeline.Errors(errs).Error(), ErrInvalidSpec, nil)
	}
	return ValidatePipelineOutput{Dates: dates}, nil
}

// problems are the rules this worker checks a job against: every rule of the job, with
// Strict no secret in plain text, and the namespaces this worker may run jobs in.
func (a *Activities) problems(s *job.JobSpec) field.ErrorList {
	errs := render.Problems(s)
	if a.Strict {
		errs = append(errs, render.SecretSettings(s)...)
	}
	return append(errs, a.namespaceProblems(s.Namespace)...)
}

// namespaceProblems refuses a namespace this worker does not watch (it would never be
// supervised) or is not allowed to run jobs in, before anything exists.
func (a *Activities) namespaceProblems(ns string) field.ErrorList {
	at := job.MetadataPath.Child("namespace")
	switch {
	case a.WatchNamespace != "" && ns != a.WatchNamespace:
		return field.ErrorList{job.Invalid(at, "the job runs in namespace %s, but this worker supervises only namespace %s (--watch-namespace); "+
			"submit it to a worker that watches %s, or to one that watches all namespaces", ns, a.WatchNamespace, ns)}
	case len(a.AllowedNamespaces) > 0 && !slices.Contains(a.AllowedNamespaces, ns):
		return field.ErrorList{job.Invalid(at, "namespace %s is not one this worker may run jobs in (--allow-namespace: %s)",
			ns, strings.Join(a.AllowedNamespaces, ", "))}
	}
	return nil
}

func optional(t *pipeline.Task) []pipeline.Task {
	if t == nil {
		return nil
	}
	return []pipeline.Task{*t}
}
