package schedule

import "time"

// Next returns the schedule's next fire time strictly after t, in its zone; the zero Time
// if it never fires again (before 2101).
//
// The fire times are those of the Temporal schedule Spec returns, the times Kindling runs
// the schedule. They are robfig's, the operator's, except in two cases Parse warns of: at a
// DST change DSTWarnings reports as one where the operator differs, and for "@every d",
// whose fire times are the multiples of d since the Unix epoch (robfig counts d from the
// previous run; the two agree whenever t is a fire time).
func (c *Cron) Next(t time.Time) time.Time {
	if c.spec == nil {
		return time.Unix((floorDiv(t.Unix(), c.everySeconds())+1)*c.everySeconds(), 0).In(c.loc)
	}
	var next time.Time
	for _, k := range c.cals {
		if n := k.next(t, c.calLoc); !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	if next.IsZero() {
		return next
	}
	return next.In(c.loc)
}

// prevWindows are the spans Prev searches, each larger than the last, so a frequent
// schedule is answered from a short span and a yearly one still found.
var prevWindows = []time.Duration{
	2 * time.Minute,
	2 * time.Hour,
	2 * 24 * time.Hour,
	64 * 24 * time.Hour,
	400 * 24 * time.Hour,
}

// Prev returns the latest fire time strictly before t (a fire time as Next has it), in the
// schedule's zone; ok is false when there is none within 400 days. A run fired at nominal
// time T covers the data interval [Prev(T), T), so the runs' intervals follow each other
// with no gap, at DST changes too.
//
// For "@every d" it is the latest multiple of d since the Unix epoch before t: t-d when t is
// a fire time.
func (c *Cron) Prev(t time.Time) (time.Time, bool) {
	if c.spec == nil {
		return c.prevEvery(t), true
	}
	for _, w := range prevWindows {
		if p, ok := c.lastBetween(t.Add(-w), t); ok {
			return p, true
		}
	}
	return time.Time{}, false
}

// lastBetween returns the last fire time strictly after from and strictly before to.
func (c *Cron) lastBetween(from, to time.Time) (last time.Time, ok bool) {
	for n := c.Next(from); !n.IsZero() && n.Before(to) && n.After(from); n = c.Next(n) {
		last, ok, from = n, true, n
	}
	return last, ok
}

// prevEvery is Prev for "@every d".
func (c *Cron) prevEvery(t time.Time) time.Time {
	d, u := c.everySeconds(), t.Unix()
	k := floorDiv(u, d)
	if k*d == u && t.Nanosecond() == 0 {
		k--
	}
	return time.Unix(k*d, 0).In(c.loc)
}

// everySeconds is Every in whole seconds (robfig keeps only whole seconds, at least one).
func (c *Cron) everySeconds() int64 { return int64(c.Every / time.Second) }

// floorDiv divides rounding toward minus infinity, so times before 1970 align too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
