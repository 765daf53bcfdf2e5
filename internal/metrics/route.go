package metrics

import (
	"maps"
	"time"

	"go.temporal.io/sdk/client"
)

// CounterFunc and TimerFunc receive a routed metric's value with the tags its handler carried.
type (
	CounterFunc func(tags map[string]string, n int64)
	TimerFunc   func(tags map[string]string, d time.Duration)
)

// Route returns a Temporal metrics handler that hands the counters and timers named in
// counters and timers, with their tags, to those functions, and every other metric to next.
//
// Workflow code emits job events (a job created, submitted, ended) through
// workflow.GetMetricsHandler, which records nothing while a history is replayed, so a job is
// counted once however often its workflow is replayed or moved between workers; Route turns
// them into the operator-named metrics, whose exact names the OpenTelemetry path would change.
func Route(next client.MetricsHandler, counters map[string]CounterFunc, timers map[string]TimerFunc) client.MetricsHandler {
	return &router{next: next, tags: map[string]string{}, counters: counters, timers: timers}
}

type router struct {
	next     client.MetricsHandler
	tags     map[string]string
	counters map[string]CounterFunc
	timers   map[string]TimerFunc
}

func (r *router) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(r.tags)
	maps.Copy(merged, tags)
	return &router{next: r.next.WithTags(tags), tags: merged, counters: r.counters, timers: r.timers}
}

func (r *router) Counter(name string) client.MetricsCounter {
	if f, ok := r.counters[name]; ok {
		tags := r.tags
		return counterFunc(func(n int64) { f(tags, n) })
	}
	return r.next.Counter(name)
}

func (r *router) Gauge(name string) client.MetricsGauge { return r.next.Gauge(name) }

func (r *router) Timer(name string) client.MetricsTimer {
	if f, ok := r.timers[name]; ok {
		tags := r.tags
		return timerFunc(func(d time.Duration) { f(tags, d) })
	}
	return r.next.Timer(name)
}

type counterFunc func(int64)

func (f counterFunc) Inc(n int64) { f(n) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
