package schedule

import (
	"reflect"
	"testing"
	"time"
)

func TestDSTWarnings(t *testing.T) {
	for _, tc := range []struct {
		schedule, timeZone string
		want               []string
	}{
		{"30 2 * * *", "America/New_York", []string{
			"2027-03-14: the clocks in America/New_York jump from 02:00 to 03:00, so 02:30 does not exist that day: Temporal will not run the schedule at 02:30. The operator does the same.",
		}},
		{"30 1 * * *", "America/New_York", []string{
			"2027-11-07: the clocks in America/New_York go back from 02:00 to 01:00, so 01:30 happens twice that day: Temporal will run the schedule at 01:30 twice (EDT, then EST). The operator does the same.",
		}},
		{"*/10 1-2 * * *", "America/New_York", []string{
			"2027-03-14: the clocks in America/New_York jump from 02:00 to 03:00, so 02:00, 02:10, 02:20, 02:30 and 2 more do not exist that day: Temporal will not run the schedule at 02:00, 02:10, 02:20, 02:30 and 2 more. The operator does the same.",
			"2027-11-07: the clocks in America/New_York go back from 02:00 to 01:00, so 01:00, 01:10, 01:20, 01:30 and 2 more happen twice that day: Temporal will run the schedule at 01:00, 01:10, 01:20, 01:30 and 2 more twice (EDT, then EST). The operator does the same.",
		}},
		// Europe changes at 01:00 UTC: 02:00 to 03:00 in March, 03:00 back to 02:00 in
		// October. East of UTC Temporal runs an overlap's time once, robfig twice.
		{"30 2 * * *", "Europe/Berlin", []string{
			"2027-03-28: the clocks in Europe/Berlin jump from 02:00 to 03:00, so 02:30 does not exist that day: Temporal will not run the schedule at 02:30. The operator does the same.",
			"2027-10-31: the clocks in Europe/Berlin go back from 03:00 to 02:00, so 02:30 happens twice that day: Temporal will run the schedule at 02:30 once, the second time (CET). The operator differs: the operator also runs it at 02:30 CEST, where Temporal does not.",
		}},
		// Every quarter of an hour, on Sundays only: Temporal drops runs when the clocks go
		// back east of UTC.
		{"*/15 * * * SUN", "Europe/Berlin", []string{
			"2027-10-31: the clocks in Europe/Berlin go back from 03:00 to 02:00, so 02:00, 02:15, 02:30 and 02:45 happen twice that day: Temporal will run the schedule at 02:00 once, the first time (CEST); Temporal will run the schedule at 02:15 once, the second time (CET); Temporal will not run the schedule at 02:30 and 02:45. The operator differs: the operator also runs it at 02:15 CEST, 02:30 CEST, 02:45 CEST, 02:00 CET and 4 more, where Temporal does not.",
		}},
		// East of UTC Temporal runs the hour before an overlap twice, the second time an
		// hour later, in the overlap's first pass.
		{"0 1 * * *", "Europe/Berlin", []string{
			"2027-10-31: the clocks in Europe/Berlin go back from 03:00 to 02:00. The operator differs: Temporal also runs the schedule at 02:00 CEST, where the operator does not.",
		}},
		// Chile starts DST at midnight: the day has no 00:00.
		{"0 0 * * *", "America/Santiago", []string{
			"2027-09-05: the clocks in America/Santiago jump from 00:00 to 01:00, so 00:00 does not exist that day: Temporal will not run the schedule at 00:00. The operator does the same.",
		}},
		// The day of the change is a Sunday: a Monday-only schedule is not affected.
		{"30 2 * * MON", "America/New_York", nil},
		{"30 2 * * *", "UTC", nil},
		{"30 2 * * *", "Asia/Tokyo", nil},
		// Hourly schedules follow the clock: no run is lost or doubled (in Europe the
		// calendars run in UTC, see Spec).
		{"0 * * * *", "America/New_York", nil},
		{"*/15 * * * *", "Europe/Berlin", nil},
		{"0 * * * *", "Australia/Sydney", nil},
		// Lord Howe moves by half an hour: Temporal moves a time in the gap by the gap, and
		// runs 01:00 a second time, half an hour later, when the clocks go back.
		{"0 * * * *", "Australia/Lord_Howe", []string{
			"2027-04-04: the clocks in Australia/Lord_Howe go back from 02:00 to 01:30. The operator differs: Temporal also runs the schedule at 01:30 +1030, where the operator does not.",
			"2027-10-03: the clocks in Australia/Lord_Howe jump from 02:00 to 02:30, so 02:00 does not exist that day: Temporal runs the schedule 30 minutes later instead of at 02:00. The operator differs: Temporal also runs the schedule at 02:30 +11, where the operator does not.",
		}},
		{"@every 1h", "America/New_York", nil},
	} {
		c, _, err := Parse(tc.schedule, tc.timeZone)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.DSTWarnings(from); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s in %s: DSTWarnings =\n%q\nwant\n%q", tc.schedule, tc.timeZone, got, tc.want)
		}
	}
}

// The year after from starts then: the March gap before it is not reported.
func TestDSTWarningsCoverOneYear(t *testing.T) {
	c, _, _ := Parse("30 2 * * *", "America/New_York")
	after := time.Date(2027, 3, 14, 12, 0, 0, 0, time.UTC)
	got := c.DSTWarnings(after)
	if len(got) != 1 || got[0][:10] != "2028-03-12" {
		t.Errorf("DSTWarnings(%v) = %q; want the gap of 2028-03-12 only", after, got)
	}
}

// Parse gives the DST warnings of the year to come.
func TestParseWarnsOfDST(t *testing.T) {
	c, warnings, err := Parse("30 1 * * *", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	if dst := c.DSTWarnings(time.Now()); len(dst) != 1 || !reflect.DeepEqual(warnings, dst) {
		t.Errorf("Parse warnings %q; want the DST warnings %q", warnings, dst)
	}
}

// Around New York's changes Temporal (as Next models it) and robfig fire at the same instants:
// none for 02:30 in the gap, both 01:30s in the overlap.
func TestModelAgreesWithRobfigWestOfUTC(t *testing.T) {
	c, _, _ := Parse("30 1,2 * * *", "America/New_York")
	trs := transitions(c.Location(), from, from.AddDate(1, 0, 0))
	if len(trs) != 2 || trs[0].gap() == trs[1].gap() {
		t.Fatalf("transitions = %+v; want a gap and an overlap", trs)
	}
	var got [][]string
	for _, tr := range trs {
		lo, hi := tr.at.Add(-3*time.Hour), tr.at.Add(3*time.Hour)
		model, robfig := format(c.times(lo, hi)), format(c.robfigTimes(lo, hi))
		if !reflect.DeepEqual(model, robfig) {
			t.Errorf("around %v: Temporal %v; robfig %v", tr.at, model, robfig)
		}
		got = append(got, model)
	}
	want := [][]string{
		{"2027-03-14T01:30:00-05:00"}, // no 02:30
		{"2027-11-07T01:30:00-04:00", "2027-11-07T01:30:00-05:00", "2027-11-07T02:30:00-05:00"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fire times around the changes %v; want %v", got, want)
	}
}

// East of UTC Temporal fires an overlap's time once, the second time.
func TestModelEastOfUTC(t *testing.T) {
	c, _, _ := Parse("30 2 * * *", "Europe/Berlin")
	at := time.Date(2027, 10, 31, 1, 0, 0, 0, time.UTC)
	got := format(c.times(at.Add(-3*time.Hour), at.Add(3*time.Hour)))
	if want := []string{"2027-10-31T02:30:00+01:00"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Temporal fires at %v; want %v", got, want)
	}
}

// format formats times in RFC 3339, in the zone they carry.
func format(ts []time.Time) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Format(time.RFC3339))
	}
	return out
}
