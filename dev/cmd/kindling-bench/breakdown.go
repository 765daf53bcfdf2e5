package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// breakdown is where a submission's time goes, from the server's history of each run up to
// the end of the activity that creates the driver (stop): the mean of each step over the runs.
type breakdown struct {
	steps map[string]time.Duration
	order []string
	runs  int
}

func (b breakdown) clone() breakdown {
	c := breakdown{order: slices.Clone(b.order), steps: map[string]time.Duration{}}
	for k, v := range b.steps {
		c.steps[k] = v
	}
	return c
}

func (b *breakdown) add(step string, d time.Duration) {
	if b.steps == nil {
		b.steps = map[string]time.Duration{}
	}
	if _, ok := b.steps[step]; !ok {
		b.order = append(b.order, step)
	}
	b.steps[step] += d
}

// submissionBreakdown reads the histories of ids up to the last completion of the activity
// named stop: time waiting for a workflow task, in workflow tasks (local activities run inside
// them), and per activity waiting in its task queue and running.
func submissionBreakdown(ctx context.Context, tc client.Client, ids []string, stop string) (breakdown, error) {
	var b breakdown
	for _, id := range ids {
		it := tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var last time.Time
		names := map[int64]string{}
		started := map[int64]time.Time{}
		scheduled := map[int64]time.Time{}
		var wftScheduled, wftStarted time.Time
		var run, upToStop breakdown
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return b, err
			}
			t := ev.GetEventTime().AsTime()
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
				last = t
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
				wftScheduled = t
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
				wftStarted = t
				run.add("workflow task: waiting for a poller", t.Sub(wftScheduled))
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				run.add("workflow task: in the worker (local activities included)", t.Sub(wftStarted))
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				names[ev.GetEventId()] = ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
				scheduled[ev.GetEventId()] = t
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				s := ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()
				started[s] = t
				run.add(names[s]+": waiting for a poller", t.Sub(scheduled[s]))
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				s := ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()
				run.add(names[s]+": running", t.Sub(started[s]))
				if names[s] == stop {
					upToStop = run.clone()
					upToStop.add("total", t.Sub(last))
				}
			}
		}
		for _, st := range upToStop.order {
			b.add(st, upToStop.steps[st])
		}
		b.runs++
	}
	return b, nil
}

// table renders two breakdowns side by side, in ms per run.
func breakdownTable(k, base breakdown) string {
	var s strings.Builder
	s.WriteString("| step (mean per run, from the server's history) | Kindling | same-round-trip workflow |\n|---|---|---|\n")
	steps := slices.Clone(k.order)
	for _, st := range base.order {
		if !slices.Contains(steps, st) {
			steps = append(steps, st)
		}
	}
	mean := func(b breakdown, st string) string {
		d, ok := b.steps[st]
		if !ok || b.runs == 0 {
			return ""
		}
		return fmt.Sprintf("%d ms", (d / time.Duration(b.runs)).Milliseconds())
	}
	for _, st := range steps {
		if st == "total" {
			continue
		}
		fmt.Fprintf(&s, "| %s | %s | %s |\n", st, mean(k, st), mean(base, st))
	}
	fmt.Fprintf(&s, "| **start → the creating activity's completion** | %s | %s |\n", mean(k, "total"), mean(base, "total"))
	return s.String()
}
