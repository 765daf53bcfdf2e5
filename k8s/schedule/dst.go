package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// transition is a change of a zone's offset from UTC, such as the start or end of DST.
type transition struct {
	at            time.Time // the first instant at the new offset
	before, after int       // the offsets, in seconds east of UTC
}

// span is how much wall-clock time the transition skips or repeats.
func (tr transition) span() time.Duration {
	return time.Duration(abs(tr.after-tr.before)) * time.Second
}

// gap reports whether the clocks jump forward (a gap) rather than back (an overlap).
func (tr transition) gap() bool { return tr.after > tr.before }

// DSTWarnings returns one warning per offset change of the schedule's zone in the year after
// from (DST starting or ending) that affects a fire time: one falls in the wall-clock time
// skipped (a gap) or repeated (an overlap), or Temporal and the operator's cron library,
// robfig, fire differently around it. Each gives the date, what Temporal does with the
// times, and whether the operator does the same.
//
// Temporal's documentation says a time in a gap does not fire and one in an overlap fires
// twice; robfig does exactly that. The server (1.29, checked by the real-server test) does so
// west of UTC only. East of UTC it fires an overlap's time once, at its second instant, runs
// the hour before the overlap a second time an hour later (a daily 01:00 in Berlin also runs
// at 02:00 CEST), and drops runs of a schedule firing several times in the overlap; in a
// half-hour gap it runs a time half an hour later. The warnings say what the server does.
//
// A schedule that fires in every hour of the day gets no warning for a whole-hour change
// where Temporal and robfig agree: its skipped or repeated hour of runs follows the clock and
// leaves no run missing or doubled. "@every" schedules count real time and get none either.
func (c *Cron) DSTWarnings(from time.Time) []string {
	if c.spec == nil {
		return nil
	}
	var out []string
	for _, tr := range transitions(c.loc, from, from.AddDate(1, 0, 0)) {
		if w := c.transitionWarning(tr); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// transitions returns the offset changes of loc from from (exclusive) to to (exclusive).
// Changes are months apart, so an hourly probe finds each one.
func transitions(loc *time.Location, from, to time.Time) []transition {
	var out []transition
	before := offsetAt(loc, from)
	for t := from; t.Before(to); t = t.Add(time.Hour) {
		next := t.Add(time.Hour)
		if after := offsetAt(loc, next); after != before {
			if at := firstAt(loc, t, next, before); at.Before(to) {
				out = append(out, transition{at: at, before: before, after: after})
			}
			before = after
		}
	}
	return out
}

// firstAt returns the first second after lo, up to hi, whose offset is not before.
func firstAt(loc *time.Location, lo, hi time.Time, before int) time.Time {
	l, h := lo.Unix(), hi.Unix()
	for h-l > 1 {
		mid := l + (h-l)/2
		if offsetAt(loc, time.Unix(mid, 0)) == before {
			l = mid
		} else {
			h = mid
		}
	}
	return time.Unix(h, 0).In(loc)
}

// offsetAt is loc's offset at t, in seconds east of UTC.
func offsetAt(loc *time.Location, t time.Time) int {
	_, off := t.In(loc).Zone()
	return off
}

// wall is the wall-clock time of t at offset off, as a UTC time whose fields are the clock's.
func wall(t time.Time, off int) time.Time {
	return time.Unix(t.Unix()+int64(off), 0).UTC()
}

// transitionWarning is DSTWarnings' warning for one change, or "" when it affects no fire
// time.
func (c *Cron) transitionWarning(tr transition) string {
	lo := wall(tr.at, min(tr.before, tr.after))
	hits := c.wallTimes(lo, lo.Add(tr.span()))
	near, far := tr.at.Add(-3*time.Hour), tr.at.Add(3*time.Hour)
	temporal, robfig := c.times(near, far), c.robfigTimes(near, far)
	same := slices.EqualFunc(temporal, robfig, time.Time.Equal)
	if same && (len(hits) == 0 || c.everyHour() && tr.span()%time.Hour == 0) {
		return ""
	}
	msg := c.change(tr, lo)
	if len(hits) > 0 {
		msg += c.temporalDoes(tr, hits, temporal)
	}
	return msg + "." + c.operatorNote(temporal, robfig)
}

// change says the date and how the clocks change, and which fire times that hits, from lo,
// the start of the skipped or repeated wall-clock time.
func (c *Cron) change(tr transition, lo time.Time) string {
	hi := lo.Add(tr.span())
	hits := c.wallTimes(lo, hi)
	msg := fmt.Sprintf("%s: the clocks in %s ", lo.Format("2006-01-02"), c.TimeZone)
	switch {
	case tr.gap():
		msg += fmt.Sprintf("jump from %s to %s", lo.Format("15:04"), hi.Format("15:04"))
	default:
		msg += fmt.Sprintf("go back from %s to %s", hi.Format("15:04"), lo.Format("15:04"))
	}
	switch {
	case len(hits) > 0 && tr.gap():
		msg += fmt.Sprintf(", so %s %s not exist that day: ", clockList(hits), plural(hits, "does", "do"))
	case len(hits) > 0:
		msg += fmt.Sprintf(", so %s %s twice that day: ", clockList(hits), plural(hits, "happens", "happen"))
	}
	return msg
}

// temporalDoes says what Temporal does with each wall-clock fire time hit by a change,
// given the times it fires around it, grouping the times it treats alike.
func (c *Cron) temporalDoes(tr transition, hits, temporal []time.Time) string {
	fires := func(t time.Time) bool { return slices.ContainsFunc(temporal, t.Equal) }
	var groups []group
	for _, w := range hits {
		groups = add(groups, c.outcome(tr, w, fires), w)
	}
	var parts []string
	for _, g := range groups {
		parts = append(parts, fmt.Sprintf(g.what, clockList(g.times)))
	}
	return strings.Join(parts, "; ")
}

// outcome says what Temporal does with the wall-clock time w hit by a change, as a format
// for the list of such times; fires reports whether Temporal fires at an instant.
func (c *Cron) outcome(tr transition, w time.Time, fires func(time.Time) bool) string {
	early := time.Unix(w.Unix()-int64(max(tr.before, tr.after)), 0)
	late := time.Unix(w.Unix()-int64(min(tr.before, tr.after)), 0)
	moved := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, c.loc)
	switch {
	case tr.gap() && moved.Hour() == w.Hour() && fires(moved):
		return fmt.Sprintf("Temporal runs the schedule %d minutes later instead of at %%s", int(tr.span().Minutes()))
	case tr.gap() || !fires(early) && !fires(late):
		return "Temporal will not run the schedule at %s"
	case fires(early) && fires(late):
		return fmt.Sprintf("Temporal will run the schedule at %%s twice (%s, then %s)", abbrev(c.loc, early), abbrev(c.loc, late))
	case fires(late):
		return fmt.Sprintf("Temporal will run the schedule at %%s once, the second time (%s)", abbrev(c.loc, late))
	}
	return fmt.Sprintf("Temporal will run the schedule at %%s once, the first time (%s)", abbrev(c.loc, early))
}

// group is the wall-clock times Temporal treats alike.
type group struct {
	what  string // what Temporal does, a format for the times' list
	times []time.Time
}

// add puts t in the group that says what, starting it if needed.
func add(groups []group, what string, t time.Time) []group {
	for i := range groups {
		if groups[i].what == what {
			groups[i].times = append(groups[i].times, t)
			return groups
		}
	}
	return append(groups, group{what: what, times: []time.Time{t}})
}

// operatorNote compares Temporal's fire times around a change with robfig's, which the
// operator uses.
func (c *Cron) operatorNote(temporal, robfig []time.Time) string {
	onlyRobfig, onlyTemporal := minus(robfig, temporal), minus(temporal, robfig)
	if len(onlyRobfig)+len(onlyTemporal) == 0 {
		return " The operator does the same."
	}
	var parts []string
	if len(onlyTemporal) > 0 {
		parts = append(parts, "Temporal also runs the schedule at "+instantList(c.loc, onlyTemporal)+", where the operator does not")
	}
	if len(onlyRobfig) > 0 {
		parts = append(parts, "the operator also runs it at "+instantList(c.loc, onlyRobfig)+", where Temporal does not")
	}
	return " The operator differs: " + strings.Join(parts, "; ") + "."
}

// minus returns the times of a that are not in b.
func minus(a, b []time.Time) []time.Time {
	var out []time.Time
	for _, t := range a {
		if !slices.ContainsFunc(b, t.Equal) {
			out = append(out, t)
		}
	}
	return out
}

// everyHour reports whether the schedule fires in every hour of a day it fires on.
func (c *Cron) everyHour() bool { return c.spec.Hour&allHours == allHours }

// wallTimes returns the wall-clock times in [lo, hi) that the schedule's fields match.
// ParseStandard fixes the seconds at 0, so whole minutes are enough.
func (c *Cron) wallTimes(lo, hi time.Time) []time.Time {
	var out []time.Time
	for w := lo.Truncate(time.Minute); w.Before(hi); w = w.Add(time.Minute) {
		if !w.Before(lo) && c.matchesWall(w) {
			out = append(out, w)
		}
	}
	return out
}

// matchesWall reports whether the fields of the wall-clock time w match the schedule, with
// robfig's rule for the day (cron/v3 spec.go, dayMatches).
func (c *Cron) matchesWall(w time.Time) bool {
	s := c.spec
	return bit(s.Month, int(w.Month())) && c.dayMatches(w) &&
		bit(s.Hour, w.Hour()) && bit(s.Minute, w.Minute()) && bit(s.Second, w.Second())
}

// dayMatches is robfig's day rule: both day fields must match when either has the star bit,
// otherwise either may.
func (c *Cron) dayMatches(w time.Time) bool {
	dom, dow := bit(c.spec.Dom, w.Day()), bit(c.spec.Dow, int(w.Weekday()))
	if daysOred(c.spec) {
		return dom || dow
	}
	return dom && dow
}

// bit reports whether value v is set in a robfig field.
func bit(field uint64, v int) bool { return field&(1<<uint(v)) != 0 }

// times are the fire times in [lo, hi].
func (c *Cron) times(lo, hi time.Time) []time.Time {
	var out []time.Time
	for n := c.Next(lo.Add(-time.Second)); !n.IsZero() && !n.After(hi); n = c.Next(n) {
		out = append(out, n)
	}
	return out
}

// robfigTimes are robfig's fire times in [lo, hi].
func (c *Cron) robfigTimes(lo, hi time.Time) []time.Time {
	var out []time.Time
	for n := c.spec.Next(lo.Add(-time.Second)); !n.IsZero() && !n.After(hi); n = c.spec.Next(n) {
		out = append(out, n)
	}
	return out
}

// abbrev is the zone's abbreviation at t, such as EDT.
func abbrev(loc *time.Location, t time.Time) string {
	name, _ := t.In(loc).Zone()
	return name
}

// clockList lists wall-clock times as "01:00, 01:15 and 01:30", the first few only.
func clockList(ts []time.Time) string {
	return list(ts, func(t time.Time) string { return t.Format("15:04") })
}

// instantList lists instants in loc with their zone, as "01:00 EDT and 01:00 EST".
func instantList(loc *time.Location, ts []time.Time) string {
	if len(ts) == 0 {
		return "no time"
	}
	return list(ts, func(t time.Time) string { return t.In(loc).Format("15:04 MST") })
}

// list joins up to four formatted times, saying how many more there are.
func list(ts []time.Time, format func(time.Time) string) string {
	const shown = 4
	var parts []string
	for _, t := range ts[:min(len(ts), shown)] {
		parts = append(parts, format(t))
	}
	if len(ts) > shown {
		return strings.Join(parts, ", ") + fmt.Sprintf(" and %d more", len(ts)-shown)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// plural picks the verb for one time or for several.
func plural(ts []time.Time, one, several string) string {
	if len(ts) == 1 {
		return one
	}
	return several
}

// abs is the absolute value of x.
func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
