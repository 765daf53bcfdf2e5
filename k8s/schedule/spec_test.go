package schedule

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

func TestRanges(t *testing.T) {
	for _, tc := range []struct {
		expr string
		lo   int
		hi   int
		want []client.ScheduleRange
	}{
		{"*", 0, 59, []client.ScheduleRange{{Start: 0, End: 59}}},
		{"*/15", 0, 59, []client.ScheduleRange{{Start: 0, End: 45, Step: 15}}},
		{"5", 0, 59, []client.ScheduleRange{{Start: 5, End: 5}}},
		{"1,15", 1, 31, []client.ScheduleRange{{Start: 1, End: 1}, {Start: 15, End: 15}}},
		{"1-5,10", 1, 31, []client.ScheduleRange{{Start: 1, End: 5}, {Start: 10, End: 10}}},
		{"0,2,4,5,6", 0, 6, []client.ScheduleRange{{Start: 0, End: 4, Step: 2}, {Start: 5, End: 6}}},
		{"*/2", 1, 31, []client.ScheduleRange{{Start: 1, End: 31, Step: 2}}},
		{"3-20/7,21", 0, 23, []client.ScheduleRange{{Start: 3, End: 17, Step: 7}, {Start: 21, End: 21}}},
	} {
		bits := fieldBits(t, tc.expr, tc.lo, tc.hi)
		got := ranges(bits, tc.lo, tc.hi)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ranges(%s) = %+v; want %+v", tc.expr, got, tc.want)
		}
		if back := rangeBits(got); back != bits&^starBit {
			t.Errorf("ranges(%s) covers %b; want %b", tc.expr, back, bits&^starBit)
		}
	}
}

// fieldBits parses expr as the minute field (or the hour, day, month, weekday field, by its
// bounds) of a schedule and returns robfig's bits for it.
func fieldBits(t *testing.T, expr string, lo, hi int) uint64 {
	t.Helper()
	fields := map[[2]int]string{
		{0, 59}: expr + " 0 * * *", {0, 23}: "0 " + expr + " * * *", {1, 31}: "0 0 " + expr + " * *",
		{1, 12}: "0 0 * " + expr + " *", {0, 6}: "0 0 * * " + expr,
	}
	c, _, err := Parse(fields[[2]int{lo, hi}], "UTC")
	if err != nil {
		t.Fatal(err)
	}
	s := c.spec
	return map[[2]int]uint64{{0, 59}: s.Minute, {0, 23}: s.Hour, {1, 31}: s.Dom, {1, 12}: s.Month, {0, 6}: s.Dow}[[2]int{lo, hi}]
}

// Every field of every calendar is set, since Temporal fills an empty one with a default.
func TestSpecSetsEveryField(t *testing.T) {
	for _, g := range goods {
		c, _, _ := Parse(g.schedule, g.timeZone)
		spec := c.Spec()
		if spec.TimeZoneName != g.zone {
			t.Errorf("%s: TimeZoneName %q; want %q", g.schedule, spec.TimeZoneName, g.zone)
		}
		if c.Every != 0 {
			if !reflect.DeepEqual(spec.Intervals, []client.ScheduleIntervalSpec{{Every: c.Every}}) || len(spec.Calendars) != 0 {
				t.Errorf("%s: spec %+v; want one interval of %v", g.schedule, spec, c.Every)
			}
			continue
		}
		for _, cal := range spec.Calendars {
			for _, f := range [][]client.ScheduleRange{cal.Second, cal.Minute, cal.Hour, cal.DayOfMonth, cal.Month, cal.DayOfWeek} {
				if len(f) == 0 {
					t.Errorf("%s: calendar %+v has an empty field", g.schedule, cal)
				}
			}
		}
	}
}

// The calendars, matched as Temporal documents (every field of one calendar matches the
// wall-clock time), fire at robfig's fire times, minute by minute over a year and through
// the DST changes of the zones in the table; Next, which follows the Temporal server, does
// too except at the changes DSTWarnings says it differs. The real-server test checks
// Temporal itself.
func TestSpecMatchesRobfigOverAYear(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a year minute by minute")
	}
	end := from.AddDate(1, 0, 7)
	for _, g := range goods {
		c, _, _ := Parse(g.schedule, g.timeZone)
		if c.Every != 0 {
			continue
		}
		robfig := format(inUTC(timesBefore(c.robfigNext, end)))
		match := calendarMatcher(c.Spec())
		var literal []time.Time
		for m := from.Add(time.Minute); m.Before(end); m = m.Add(time.Minute) {
			if match(m) {
				literal = append(literal, m)
			}
		}
		if got := format(literal); !reflect.DeepEqual(got, robfig) {
			t.Errorf("%s in %s: the calendars fire %d times, robfig %d", g.schedule, g.zone, len(got), len(robfig))
		}
		next := format(inUTC(timesBefore(c.Next, end)))
		if !reflect.DeepEqual(next, robfig) && !warnsOperatorDiffers(c.DSTWarnings(from)) {
			t.Errorf("%s in %s: Next fires %d times, robfig %d, and no DST warning says why", g.schedule, g.zone, len(next), len(robfig))
		}
	}
}

// timesBefore are the times next gives from from to end.
func timesBefore(next func(time.Time) time.Time, end time.Time) []time.Time {
	var out []time.Time
	for n := next(from); !n.IsZero() && n.Before(end); n = next(n) {
		out = append(out, n)
	}
	return out
}

// warnsOperatorDiffers reports whether a warning says the operator differs from Temporal.
func warnsOperatorDiffers(warnings []string) bool {
	return slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, "The operator differs") })
}

// calendarMatcher matches an instant against a spec's calendars as Temporal documents it.
func calendarMatcher(spec client.ScheduleSpec) func(time.Time) bool {
	loc, err := time.LoadLocation(spec.TimeZoneName)
	if err != nil {
		panic(err)
	}
	cals := calendarsOf(spec)
	return func(t time.Time) bool {
		w := t.In(loc)
		for _, c := range cals {
			if bit(c.sec, w.Second()) && bit(c.min, w.Minute()) && bit(c.hour, w.Hour()) &&
				bit(c.dom, w.Day()) && bit(c.month, int(w.Month())) && bit(c.dow, int(w.Weekday())) {
				return true
			}
		}
		return false
	}
}

// inUTC returns ts in UTC.
func inUTC(ts []time.Time) []time.Time {
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = t.UTC()
	}
	return out
}

// A schedule of every hour of every day runs in UTC where that fires at the same instants.
func TestSpecRunsInUTC(t *testing.T) {
	for _, tc := range []struct{ schedule, timeZone, want string }{
		{"*/15 * * * *", "Europe/Berlin", "UTC"},
		{"@hourly", "America/New_York", "UTC"},
		{"0 * 1-31 * MON", "Europe/Berlin", "UTC"}, // every day: the day of month or Monday
		{"0 * * * MON", "Europe/Berlin", "Europe/Berlin"},
		{"0 * 1 * *", "Europe/Berlin", "Europe/Berlin"},
		{"0 * * JAN *", "Europe/Berlin", "Europe/Berlin"},
		{"0 0-22 * * *", "Europe/Berlin", "Europe/Berlin"},
		{"0 * * * *", "Asia/Kolkata", "Asia/Kolkata"}, // +05:30
		{"0 * * * *", "Australia/Lord_Howe", "Australia/Lord_Howe"},
	} {
		c, _, err := Parse(tc.schedule, tc.timeZone)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Spec().TimeZoneName; got != tc.want || c.TimeZone != tc.timeZone {
			t.Errorf("%s in %s: Spec runs in %s (Cron.TimeZone %s); want %s", tc.schedule, tc.timeZone, got, c.TimeZone, tc.want)
		}
	}
}
