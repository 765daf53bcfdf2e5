package schedule

import (
	"time"

	"github.com/robfig/cron/v3"
	"go.temporal.io/sdk/client"
)

// starBit is robfig's mark on a field written with "*" or "?" (without a step above one).
const starBit = 1 << 63

// maxComment is the longest calendar comment Temporal accepts.
const maxComment = 200

// Spec returns the Temporal schedule spec that fires when robfig does: always, except at
// the DST changes DSTWarnings reports as ones where the operator differs. Calendars are
// built from robfig's parsed fields, not from the expression's text, so Temporal's cron
// parser never reads it. Temporal requires every field of a calendar to match, so when
// robfig would accept a day by its day of month or by its day of week (both fields
// restricted, neither written with "*" or "?") there are two calendars, one per field.
// "@every d" becomes an interval of d from the Unix epoch.
//
// TimeZoneName is the schedule's zone, except for a schedule that fires in every hour of
// every day in a zone whose offsets are whole hours: its fire times are the same instants in
// UTC, and UTC spares it Temporal's handling of DST, which east of UTC drops runs of such a
// schedule when the clocks go back.
func (c *Cron) Spec() client.ScheduleSpec {
	if c.spec == nil {
		return client.ScheduleSpec{
			Intervals:    []client.ScheduleIntervalSpec{{Every: c.Every}},
			TimeZoneName: c.TimeZone,
		}
	}
	zone := c.TimeZone
	if c.sameInUTC {
		zone = "UTC"
	}
	return client.ScheduleSpec{Calendars: c.calendars(), TimeZoneName: zone}
}

// Field masks of all the values a field can take.
const (
	allHours  = 1<<24 - 1
	allDays   = (1<<32 - 1) &^ 1 // 1-31
	allMonths = (1<<13 - 1) &^ 1 // 1-12
	allDows   = 1<<7 - 1
)

// sameInUTC reports whether a field schedule fires at the same instants in loc and in UTC:
// it fires in every hour of every day, and loc's offsets, from 2000 to 2100, are whole hours.
func sameInUTC(s *cron.SpecSchedule, loc *time.Location) bool {
	domAll, dowAll := s.Dom&allDays == allDays, s.Dow&allDows == allDows
	everyDay := domAll && dowAll || daysOred(s) && (domAll || dowAll)
	return s.Hour&allHours == allHours && s.Month&allMonths == allMonths && everyDay && wholeHours(loc)
}

// wholeHours reports whether loc's offset is a whole number of hours from 2000 to 2100,
// sampled weekly (an offset lasts months).
func wholeHours(loc *time.Location) bool {
	for t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); t.Year() <= maxYear; t = t.AddDate(0, 0, 7) {
		if offsetAt(loc, t)%3600 != 0 {
			return false
		}
	}
	return true
}

// calendars are the Temporal calendars of a field schedule.
func (c *Cron) calendars() []client.ScheduleCalendarSpec {
	s := c.spec
	all := client.ScheduleCalendarSpec{
		Second:     ranges(s.Second, 0, 59),
		Minute:     ranges(s.Minute, 0, 59),
		Hour:       ranges(s.Hour, 0, 23),
		DayOfMonth: ranges(s.Dom, 1, 31),
		Month:      ranges(s.Month, 1, 12),
		DayOfWeek:  ranges(s.Dow, 0, 6),
		Year:       nil, // every year
		Comment:    comment(c.Expr, ""),
	}
	if !daysOred(s) {
		return []client.ScheduleCalendarSpec{all}
	}
	byDom, byDow := all, all
	byDom.DayOfWeek = []client.ScheduleRange{{Start: 0, End: 6}}
	byDom.Comment = comment(c.Expr, " (by day of month)")
	byDow.DayOfMonth = []client.ScheduleRange{{Start: 1, End: 31}}
	byDow.Comment = comment(c.Expr, " (by day of week)")
	return []client.ScheduleCalendarSpec{byDom, byDow}
}

// daysOred reports whether robfig accepts a day matching either the day of month or the day
// of week: it does when neither field carries the star bit (cron/v3 spec.go, dayMatches).
func daysOred(s *cron.SpecSchedule) bool {
	return s.Dom&starBit == 0 && s.Dow&starBit == 0
}

// comment is a calendar's comment: the expression and a note, cut to Temporal's limit.
func comment(expr, note string) string {
	s := expr + note
	if len(s) > maxComment {
		s = s[:maxComment-3] + "..."
	}
	return s
}

// ranges turns the bits lo..hi of a robfig field into Temporal ranges: runs of consecutive
// values become Start-End, three or more values an equal step apart Start-End/Step, and the
// rest single values.
func ranges(bits uint64, lo, hi int) []client.ScheduleRange {
	vals := values(bits, lo, hi)
	out := []client.ScheduleRange{}
	for i := 0; i < len(vals); {
		n, step := progression(vals[i:])
		switch {
		case n >= 2 && step == 1:
			out = append(out, client.ScheduleRange{Start: vals[i], End: vals[i+n-1]})
		case n >= 3:
			out = append(out, client.ScheduleRange{Start: vals[i], End: vals[i+n-1], Step: step})
		default:
			n = 1
			out = append(out, client.ScheduleRange{Start: vals[i], End: vals[i]})
		}
		i += n
	}
	return out
}

// values are the set bits lo..hi of a field, in order.
func values(bits uint64, lo, hi int) []int {
	var out []int
	for v := lo; v <= hi; v++ {
		if bits&(1<<uint(v)) != 0 {
			out = append(out, v)
		}
	}
	return out
}

// progression returns how many of vals, from the first, are an equal step apart, and the step.
func progression(vals []int) (n, step int) {
	if len(vals) < 2 {
		return len(vals), 0
	}
	step = vals[1] - vals[0]
	n = 2
	for n < len(vals) && vals[n]-vals[n-1] == step {
		n++
	}
	return n, step
}
