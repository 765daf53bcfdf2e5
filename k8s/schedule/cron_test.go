package schedule

import (
	"strings"
	"testing"
	"time"
)

// from is the instant the tables count fire times from: Wednesday 25 November 2026, 21:00 UTC.
var from = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

// good is a schedule the operator accepts, with what Parse must make of it.
type good struct {
	schedule, timeZone string
	zone               string        // Cron.TimeZone
	expr               string        // Cron.Expr
	every              time.Duration // Cron.Every
	calendars          int           // len(Spec().Calendars)
	next               []string      // the first fire times after from, RFC 3339
	warn               []string      // a part of each warning Parse must give, in order
}

// goods is the table of accepted schedules; the real-server test uses it too.
var goods = []good{
	{schedule: "@daily", timeZone: "UTC", zone: "UTC", expr: "@daily", calendars: 1,
		next: []string{"2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"}},
	{schedule: "@midnight", timeZone: "UTC", zone: "UTC", expr: "@midnight", calendars: 1,
		next: []string{"2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z"}},
	{schedule: "@hourly", timeZone: "UTC", zone: "UTC", expr: "@hourly", calendars: 1,
		next: []string{"2026-11-25T22:00:00Z", "2026-11-25T23:00:00Z", "2026-11-26T00:00:00Z"}},
	{schedule: "@weekly", timeZone: "UTC", zone: "UTC", expr: "@weekly", calendars: 1,
		next: []string{"2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z"}},
	{schedule: "@monthly", timeZone: "UTC", zone: "UTC", expr: "@monthly", calendars: 1,
		next: []string{"2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"}},
	{schedule: "@yearly", timeZone: "UTC", zone: "UTC", expr: "@yearly", calendars: 1,
		next: []string{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"}},
	{schedule: "@annually", timeZone: "UTC", zone: "UTC", expr: "@annually", calendars: 1,
		next: []string{"2027-01-01T00:00:00Z"}},
	{schedule: "0 2 * * *", timeZone: "", zone: "UTC", expr: "0 2 * * *", calendars: 1,
		next: []string{"2026-11-26T02:00:00Z", "2026-11-27T02:00:00Z", "2026-11-28T02:00:00Z"},
		warn: []string{"spec.timeZone is not set: Kindling runs the schedule in UTC (the operator would use its pod's zone)"}},
	{schedule: "0 2 * * *", timeZone: "Local", zone: "UTC", expr: "0 2 * * *", calendars: 1,
		next: []string{"2026-11-26T02:00:00Z"},
		warn: []string{"spec.timeZone is Local: Kindling runs the schedule in UTC"}},
	{schedule: "0 2 * * *", timeZone: "Asia/Tokyo", zone: "Asia/Tokyo", expr: "0 2 * * *", calendars: 1,
		next: []string{"2026-11-27T02:00:00+09:00", "2026-11-28T02:00:00+09:00"}},
	{schedule: "*/15 * * * *", timeZone: "UTC", zone: "UTC", expr: "*/15 * * * *", calendars: 1,
		next: []string{"2026-11-25T21:15:00Z", "2026-11-25T21:30:00Z", "2026-11-25T21:45:00Z", "2026-11-25T22:00:00Z"}},
	// Both day fields restricted: the 1st of the month or a Monday.
	{schedule: "0 0 1 * MON", timeZone: "UTC", zone: "UTC", expr: "0 0 1 * MON", calendars: 2,
		next: []string{"2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z", "2026-12-07T00:00:00Z"}},
	// "*/2" has a step above one, which clears robfig's star bit: an odd day or a weekday
	// (Saturday the 28th does not fire, Sunday the 29th does).
	{schedule: "0 0 */2 * MON-FRI", timeZone: "UTC", zone: "UTC", expr: "0 0 */2 * MON-FRI", calendars: 2,
		next: []string{"2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z", "2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z"}},
	// "*/1" keeps the star bit: Mondays only.
	{schedule: "0 0 */1 * MON", timeZone: "UTC", zone: "UTC", expr: "0 0 */1 * MON", calendars: 1,
		next: []string{"2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z"}},
	// "?" is a star too.
	{schedule: "0 0 ? * MON", timeZone: "UTC", zone: "UTC", expr: "0 0 ? * MON", calendars: 1,
		next: []string{"2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"}},
	// "1-31" names every day without a star: every day, whatever the day of week says.
	{schedule: "0 0 1-31 * MON", timeZone: "UTC", zone: "UTC", expr: "0 0 1-31 * MON", calendars: 2,
		next: []string{"2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"}},
	{schedule: "CRON_TZ=America/New_York 30 2 * * *", timeZone: "", zone: "America/New_York", expr: "30 2 * * *", calendars: 1,
		next: []string{"2026-11-26T02:30:00-05:00", "2026-11-27T02:30:00-05:00", "2026-11-28T02:30:00-05:00"},
		warn: []string{"the clocks in America/New_York jump from 02:00 to 03:00, so 02:30 does not exist that day"}},
	// East of UTC Temporal runs the hour before the clocks go back twice.
	{schedule: "TZ=Europe/Berlin 0 1 * * *", timeZone: "", zone: "Europe/Berlin", expr: "0 1 * * *", calendars: 1,
		next: []string{"2026-11-26T01:00:00+01:00", "2026-11-27T01:00:00+01:00", "2026-11-28T01:00:00+01:00"},
		warn: []string{"the clocks in Europe/Berlin go back from 03:00 to 02:00. The operator differs: Temporal also runs the schedule at 02:00 CEST, where the operator does not."}},
	{schedule: "CRON_TZ=UTC 0 2 * * *", timeZone: "Asia/Tokyo", zone: "UTC", expr: "0 2 * * *", calendars: 1,
		next: []string{"2026-11-26T02:00:00Z"},
		warn: []string{`spec.schedule's CRON_TZ=UTC prefix wins over spec.timeZone "Asia/Tokyo"`}},
	{schedule: "TZ=Local 0 2 * * *", timeZone: "Asia/Tokyo", zone: "UTC", expr: "0 2 * * *", calendars: 1,
		next: []string{"2026-11-26T02:00:00Z"},
		warn: []string{"spec.schedule's TZ=Local prefix names the operator pod's zone: Kindling runs the schedule in UTC"}},
	{schedule: "0 9 1,15 * *", timeZone: "UTC", zone: "UTC", expr: "0 9 1,15 * *", calendars: 1,
		next: []string{"2026-12-01T09:00:00Z", "2026-12-15T09:00:00Z", "2027-01-01T09:00:00Z"}},
	// The day of month is a star: Sundays of January and July.
	{schedule: "5 4 * JAN,JUL SUN", timeZone: "UTC", zone: "UTC", expr: "5 4 * JAN,JUL SUN", calendars: 1,
		next: []string{"2027-01-03T04:05:00Z", "2027-01-10T04:05:00Z", "2027-01-17T04:05:00Z", "2027-01-24T04:05:00Z", "2027-01-31T04:05:00Z", "2027-07-04T04:05:00Z"}},
	{schedule: "0 12 * * mon-wed,FRI", timeZone: "UTC", zone: "UTC", expr: "0 12 * * mon-wed,FRI", calendars: 1,
		next: []string{"2026-11-27T12:00:00Z", "2026-11-30T12:00:00Z", "2026-12-01T12:00:00Z", "2026-12-02T12:00:00Z", "2026-12-04T12:00:00Z"}},
	// The operator's own example.
	{schedule: "@every 3m", timeZone: "", zone: "UTC", expr: "@every 3m", every: 3 * time.Minute,
		next: []string{"2026-11-25T21:03:00Z", "2026-11-25T21:06:00Z", "2026-11-25T21:09:00Z"},
		warn: []string{`spec.schedule "@every 3m": Temporal runs it at the multiples of 3m0s since the Unix epoch`}},
	{schedule: "@every 1h30m", timeZone: "Europe/Berlin", zone: "Europe/Berlin", expr: "@every 1h30m", every: 90 * time.Minute,
		next: []string{"2026-11-25T23:30:00+01:00", "2026-11-26T01:00:00+01:00"},
		warn: []string{"multiples of 1h30m0s since the Unix epoch"}},
	// robfig accepts @every 0s and runs it every second.
	{schedule: "@every 0s", timeZone: "UTC", zone: "UTC", expr: "@every 0s", every: time.Second,
		next: []string{"2026-11-25T21:00:01Z", "2026-11-25T21:00:02Z"},
		warn: []string{"Unix epoch", `spec.schedule "@every 0s": the operator's cron library runs it every 1s`}},
	// No February has a 30th: accepted, never fires.
	{schedule: "0 0 30 2 *", timeZone: "UTC", zone: "UTC", expr: "0 0 30 2 *", calendars: 1,
		warn: []string{`spec.schedule "0 0 30 2 *" never fires`}},
}

func TestParse(t *testing.T) {
	for _, g := range goods {
		t.Run(g.schedule+"|"+g.timeZone, func(t *testing.T) {
			c, warnings, err := Parse(g.schedule, g.timeZone)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if c.TimeZone != g.zone || c.Expr != g.expr || c.Every != g.every {
				t.Errorf("TimeZone, Expr, Every = %q, %q, %v; want %q, %q, %v", c.TimeZone, c.Expr, c.Every, g.zone, g.expr, g.every)
			}
			if c.Location().String() != g.zone {
				t.Errorf("Location() = %v; want %s", c.Location(), g.zone)
			}
			if n := len(c.Spec().Calendars); n != g.calendars {
				t.Errorf("%d calendars; want %d", n, g.calendars)
			}
			checkNext(t, c, g.next)
			checkWarnings(t, warnings, g.warn)
		})
	}
}

// checkNext compares the first fire times after from with want, instant and zone.
func checkNext(t *testing.T, c *Cron, want []string) {
	t.Helper()
	at := from
	for _, w := range want {
		at = c.Next(at)
		if got := at.Format(time.RFC3339); got != w {
			t.Fatalf("next fire time %s; want %s", got, w)
		}
	}
	if len(want) == 0 && !c.Next(from).IsZero() {
		t.Errorf("fires at %v; want never", c.Next(from))
	}
}

// checkWarnings wants each of want in a warning of its own, in order, and no other warning.
func checkWarnings(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("warnings %q; want %d", got, len(want))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("warning %q; want it to contain %q", got[i], want[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ schedule, timeZone, want string }{
		{"0 0 32 * *", "UTC", `spec.schedule: "0 0 32 * *": end of range (32) above maximum (31): 32`},
		{"61 * * * *", "UTC", `spec.schedule: "61 * * * *": end of range (61) above maximum (59): 61`},
		{"* * *", "UTC", `spec.schedule: "* * *": expected exactly 5 fields, found 3: [* * *]`},
		{"0 0 * * * *", "UTC", `spec.schedule: "0 0 * * * *": expected exactly 5 fields, found 6`},
		// robfig's day of week stops at 6 (Saturday): 7 is not Sunday.
		{"0 0 * * 7", "UTC", `spec.schedule: "0 0 * * 7": end of range (7) above maximum (6): 7`},
		{"0 0 * * SUN-SAT/0", "UTC", `spec.schedule: "0 0 * * SUN-SAT/0": step of range should be a positive number`},
		{"0 0 5-1 * *", "UTC", `spec.schedule: "0 0 5-1 * *": beginning of range (5) beyond end of range (1)`},
		{"0 0 L * *", "UTC", `spec.schedule: "0 0 L * *": failed to parse int from L`},
		{"@fortnightly", "UTC", `spec.schedule: "@fortnightly": unrecognized descriptor: @fortnightly`},
		{"@every 5x", "UTC", `spec.schedule: "@every 5x": failed to parse duration @every 5x`},
		{"CRON_TZ=Mars/Base 0 * * * *", "", `spec.schedule: "CRON_TZ=Mars/Base 0 * * * *": provided bad location Mars/Base: unknown time zone Mars/Base`},
		// robfig would panic here.
		{"TZ=UTC", "", `spec.schedule: "TZ=UTC": a CRON_TZ= or TZ= prefix must be followed by a space and the expression`},
		// The operator prefixes CRON_TZ= itself, so a second prefix is a sixth field.
		{" TZ=UTC 0 * * * *", "", `spec.schedule: " TZ=UTC 0 * * * *": expected exactly 5 fields, found 6`},
		{"", "UTC", "spec.schedule: is required"},
		{"0 * * * *", "Mars/Base", `spec.timeZone: "Mars/Base": unknown time zone Mars/Base`},
		// The operator checks spec.timeZone even when a prefix wins over it.
		{"CRON_TZ=UTC 0 * * * *", "Mars/Base", `spec.timeZone: "Mars/Base": unknown time zone Mars/Base`},
	} {
		c, _, err := Parse(tc.schedule, tc.timeZone)
		if err == nil {
			t.Errorf("Parse(%q, %q) = %+v; want an error", tc.schedule, tc.timeZone, c)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q, %q): %v; want %s", tc.schedule, tc.timeZone, err, tc.want)
		}
	}
}

// Prev is the latest fire time before t, so Next(Prev(t)) is the first fire time at or after t.
func TestPrev(t *testing.T) {
	for _, g := range goods {
		if len(g.next) == 0 {
			continue
		}
		c, _, err := Parse(g.schedule, g.timeZone)
		if err != nil {
			t.Fatal(err)
		}
		checkPrev(t, c, from, from.Add(17*time.Minute+3*time.Second), from.AddDate(0, 4, 0))
	}
}

// checkPrev checks Prev at each of ts and at the fire times that follow.
func checkPrev(t *testing.T, c *Cron, ts ...time.Time) {
	t.Helper()
	for _, at := range ts {
		for _, x := range []time.Time{at, c.Next(at), c.Next(c.Next(at))} {
			p, ok := c.Prev(x)
			if !ok {
				t.Errorf("%s: Prev(%v) found none", c.Expr, x)
				continue
			}
			if !p.Before(x) || p.Location() != c.Location() {
				t.Errorf("%s: Prev(%v) = %v; want a time before it, in %v", c.Expr, x, p, c.Location())
			}
			first := c.Next(x.Add(-time.Nanosecond))
			if got := c.Next(p); !got.Equal(first) {
				t.Errorf("%s: Next(Prev(%v)) = %v; want %v", c.Expr, x, got, first)
			}
		}
	}
}

func TestPrevIsTheDataInterval(t *testing.T) {
	c, _, err := Parse("0 2 * * *", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	nominal := time.Date(2026, 11, 25, 2, 0, 0, 0, c.Location())
	if p, ok := c.Prev(nominal); !ok || !p.Equal(nominal.AddDate(0, 0, -1)) {
		t.Errorf("Prev(%v) = %v, %v; want the day before", nominal, p, ok)
	}
	every, _, _ := Parse("@every 3m", "")
	at := time.Date(2026, 11, 25, 21, 3, 0, 0, time.UTC)
	if p, _ := every.Prev(at); !p.Equal(at.Add(-3 * time.Minute)) {
		t.Errorf("@every 3m: Prev(%v) = %v; want 3m before", at, p)
	}
	if p, _ := every.Prev(at.Add(time.Minute)); !p.Equal(at) {
		t.Errorf("@every 3m: Prev(%v) = %v; want the multiple of 3m before it, %v", at.Add(time.Minute), p, at)
	}
}

func TestPrevNoneWithin400Days(t *testing.T) {
	never, _, _ := Parse("0 0 30 2 *", "UTC")
	if p, ok := never.Prev(from); ok {
		t.Errorf("0 0 30 2 *: Prev = %v; want none", p)
	}
	leap, _, _ := Parse("0 0 29 2 *", "UTC")
	at := time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC) // the one before is four years back
	if p, ok := leap.Prev(at); ok {
		t.Errorf("0 0 29 2 *: Prev(%v) = %v; want none within 400 days", at, p)
	}
	if p, ok := leap.Prev(at.AddDate(0, 3, 0)); !ok || !p.Equal(at) {
		t.Errorf("0 0 29 2 *: Prev = %v, %v; want %v", p, ok, at)
	}
}

// Prev and Next keep each other across both DST changes of a year.
func TestPrevAcrossDST(t *testing.T) {
	for _, s := range []string{"30 2 * * *", "30 1 * * *", "0 * * * *", "*/20 1-3 * * *"} {
		c, _, err := Parse(s, "America/New_York")
		if err != nil {
			t.Fatal(err)
		}
		loc := c.Location()
		checkPrev(t, c,
			time.Date(2027, 3, 14, 1, 50, 0, 0, loc), time.Date(2027, 3, 14, 3, 10, 0, 0, loc),
			time.Date(2027, 3, 15, 2, 30, 0, 0, loc),
			time.Date(2027, 11, 7, 0, 50, 0, 0, loc), time.Date(2027, 11, 7, 1, 35, 0, 0, loc),
			time.Date(2027, 11, 7, 1, 30, 0, 0, loc).Add(time.Hour))
	}
}

// The data intervals of the runs Temporal starts follow each other at DST changes too: east
// of UTC Temporal runs 02:30 once when the clocks go back, at the second 02:30, and that
// run covers the day before it.
func TestPrevFollowsTemporalAtDST(t *testing.T) {
	c, _, _ := Parse("30 2 * * *", "Europe/Berlin")
	nominal := time.Date(2027, 10, 31, 1, 30, 0, 0, time.UTC) // 02:30 CET, the second 02:30
	p, ok := c.Prev(nominal)
	if want := "2027-10-30T02:30:00+02:00"; !ok || p.Format(time.RFC3339) != want {
		t.Errorf("Prev(%v) = %v, %v; want %s", nominal, p, ok, want)
	}
	if n := c.Next(p); !n.Equal(nominal) {
		t.Errorf("Next(%v) = %v; want %v", p, n, nominal)
	}
}
