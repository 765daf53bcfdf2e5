package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// probe is a schedule to create on Temporal: one of the table's, or one that starts at
// startAt, just before a DST change.
type probe struct {
	schedule, timeZone string
	startAt            time.Time
}

// dstProbes start just before the DST changes of the coming years. Temporal's
// NextActionTimes then show what it does in the gap and in the overlap.
func dstProbes() []probe {
	at := func(zone string, y int, m time.Month, d, h int) time.Time {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			panic(err)
		}
		return time.Date(y, m, d, h, 0, 0, 0, loc)
	}
	ny, berlin, santiago, lordHowe := "America/New_York", "Europe/Berlin", "America/Santiago", "Australia/Lord_Howe"
	return []probe{
		{"30 2 * * *", ny, at(ny, 2027, time.March, 12, 0)},
		{"30 1 * * *", ny, at(ny, 2027, time.November, 5, 0)},
		{"*/20 1-3 * * *", ny, at(ny, 2027, time.March, 14, 0)},
		{"*/20 1-3 * * *", ny, at(ny, 2027, time.November, 7, 0)},
		{"0 * * * *", ny, at(ny, 2027, time.March, 14, 0)},
		{"0 * * * *", ny, at(ny, 2027, time.November, 7, 0)},
		{"30 2 * * *", berlin, at(berlin, 2027, time.March, 27, 0)},
		{"30 2 * * *", berlin, at(berlin, 2027, time.October, 29, 0)},
		{"0 0 * * *", santiago, at(santiago, 2027, time.September, 2, 12)},
		{"0 * * * *", lordHowe, at(lordHowe, 2027, time.October, 3, 0)},
		{"0 * * * *", lordHowe, at(lordHowe, 2027, time.April, 4, 0)},
		{"15 2 * * *", lordHowe, at(lordHowe, 2027, time.October, 1, 0)},
		{"*/15 1 * * *", lordHowe, at(lordHowe, 2027, time.April, 4, 0)},
		{"0 * * * *", berlin, at(berlin, 2027, time.October, 31, 0)},
		{"*/15 * * * *", berlin, at(berlin, 2027, time.October, 31, 1)},
		{"*/15 * * * SUN", berlin, at(berlin, 2027, time.October, 31, 1)},
		{"0 1 * * *", berlin, at(berlin, 2027, time.October, 30, 0)},
		{"0 * * * *", berlin, at(berlin, 2027, time.March, 28, 0)},
		{"30 2 * * *", "Australia/Sydney", at("Australia/Sydney", 2027, time.April, 3, 0)},
		{"30 1 * * *", "Europe/London", at("Europe/London", 2027, time.October, 30, 0)},
		{"0 0 * * *", "America/Havana", at("America/Havana", 2027, time.March, 13, 0)},
	}
}

// TestSpecOnTemporal creates each schedule of the table, paused, on a real Temporal server
// and checks that the next action times Temporal reports are Next's, and robfig's. The DST
// probes start just before a change: there Temporal's times must still be Next's, and
// where they are not robfig's, DSTWarnings must say so.
//
// For "@every d" robfig counts d from the previous run while Temporal fires at the multiples
// of d since the Unix epoch; Next follows Temporal there, so the comparison is with the
// epoch's multiples, and the test checks that each time is one.
func TestSpecOnTemporal(t *testing.T) {
	if os.Getenv("KINDLING_E2E") != "1" {
		t.Skip("needs the local stack's Temporal server (KINDLING_E2E=1, TEMPORAL_ADDRESS); make test starts it")
	}
	sc := dial(t).ScheduleClient()
	var probes []probe
	for _, g := range goods {
		probes = append(probes, probe{schedule: g.schedule, timeZone: g.timeZone})
	}
	probes = append(probes, dstProbes()...)
	for _, p := range probes {
		t.Run(p.schedule+"|"+p.timeZone, func(t *testing.T) { checkOnTemporal(t, sc, p) })
	}
	t.Logf("%d schedules compared with Temporal", len(probes))
}

// dial connects to the Temporal server of the local stack, namespace default.
func dial(t *testing.T) client.Client {
	t.Helper()
	addr := os.Getenv("TEMPORAL_ADDRESS")
	if addr == "" {
		addr = "127.0.0.1:7233"
	}
	c, err := client.Dial(client.Options{
		HostPort:  addr,
		Namespace: "default",
		Logger:    log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	})
	if err != nil {
		t.Fatalf("dial Temporal at %s: %v", addr, err)
	}
	t.Cleanup(c.Close)
	return c
}

// checkOnTemporal creates the probe's schedule paused, reads its next action times and
// compares them with Next's and with robfig's.
func checkOnTemporal(t *testing.T, sc client.ScheduleClient, p probe) {
	c, _, err := Parse(p.schedule, p.timeZone)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	got := nextActionTimes(t, sc, c, p.startAt)
	after := time.Now()
	if c.Next(before).IsZero() {
		if len(got) != 0 {
			t.Errorf("Temporal fires at %v; Next never", got)
		}
		return
	}
	if len(got) == 0 {
		t.Fatal("Describe reports no NextActionTimes for the paused schedule")
	}
	checkFirst(t, c, p.startAt, before, after, got[0])
	t0 := got[0].Add(-time.Second)
	if next := fireTimes(c.Next, t0, len(got)); !equalTimes(got, next) {
		t.Errorf("Temporal fires at\n%v\nNext at\n%v", format(inZone(got, c.Location())), format(next))
	}
	checkEpochMultiples(t, c, got)
	if robfig := fireTimes(c.robfigNext, t0, len(got)); !equalTimes(got, robfig) {
		differs(t, c, p, got, robfig)
		return
	}
	t.Logf("%d action times agree with robfig, from %s", len(got), got[0].In(c.Location()).Format(time.RFC3339))
}

// robfigNext is robfig's own Next, in the schedule's zone; for "@every d" from a fire time,
// where robfig's d after the previous run is the next multiple of d.
func (c *Cron) robfigNext(t time.Time) time.Time {
	if c.spec == nil {
		return c.Next(t)
	}
	return c.spec.Next(t).In(c.loc)
}

// checkFirst checks Temporal's first action time: the first fire time after the schedule
// was created, or the first at or after startAt.
func checkFirst(t *testing.T, c *Cron, startAt, before, after, first time.Time) {
	t.Helper()
	if !startAt.IsZero() {
		before, after = startAt.Add(-time.Second), startAt.Add(-time.Second)
	}
	if first.Before(c.Next(before)) || first.After(c.Next(after)) {
		t.Errorf("first action at %v; the first fire time after creation is %v", first, c.Next(before))
	}
}

// differs accepts a difference between Temporal and robfig only at a DST change that
// DSTWarnings reports, on the day of the first time they differ, as one where the operator
// differs.
func differs(t *testing.T, c *Cron, p probe, got, robfig []time.Time) {
	t.Helper()
	diff := fmt.Sprintf("Temporal fires at\n%v\nrobfig at\n%v", format(inZone(got, c.Location())), format(robfig))
	if p.startAt.IsZero() {
		t.Error(diff)
		return
	}
	i := 0
	for i < len(got) && i < len(robfig) && got[i].Equal(robfig[i]) {
		i++
	}
	day := got[min(i, len(got)-1)].In(c.Location()).Format("2006-01-02")
	for _, w := range c.DSTWarnings(p.startAt.AddDate(0, 0, -1)) {
		if strings.HasPrefix(w, day+":") && warnsOperatorDiffers([]string{w}) {
			t.Logf("%s\nas warned: %s", diff, w)
			return
		}
	}
	t.Errorf("%s\nand no DST warning of %s says the operator differs", diff, day)
}

// nextActionTimes creates c's schedule, paused (it never starts a workflow), describes it and
// deletes it when the test ends.
func nextActionTimes(t *testing.T, sc client.ScheduleClient, c *Cron, startAt time.Time) []time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spec := c.Spec()
	spec.StartAt = startAt
	id := "kindling-crontest-" + uuid.NewString()[:8]
	h, err := sc.Create(ctx, client.ScheduleOptions{
		ID:     id,
		Spec:   spec,
		Paused: true,
		Action: &client.ScheduleWorkflowAction{ID: id, Workflow: "SparkJob", TaskQueue: "kindling-crontest-nobody"},
	})
	if err != nil {
		t.Fatalf("create schedule %s: %v", id, err)
	}
	t.Cleanup(func() {
		var nf *serviceerror.NotFound
		if err := h.Delete(context.Background()); err != nil && !errors.As(err, &nf) {
			t.Errorf("delete schedule %s: %v", id, err)
		}
	})
	d, err := h.Describe(ctx)
	if err != nil {
		t.Fatalf("describe schedule %s: %v", id, err)
	}
	if !d.Schedule.State.Paused {
		t.Errorf("schedule %s is not paused", id)
	}
	return d.Info.NextActionTimes
}

// fireTimes are the first n times after t that next gives.
func fireTimes(next func(time.Time) time.Time, t time.Time, n int) []time.Time {
	var out []time.Time
	for len(out) < n {
		t = next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// equalTimes reports whether a and b are the same instants.
func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// checkEpochMultiples checks that an @every schedule fires at the multiples of its interval
// since the Unix epoch.
func checkEpochMultiples(t *testing.T, c *Cron, got []time.Time) {
	t.Helper()
	if c.Every == 0 {
		return
	}
	for _, g := range got {
		if g.UnixNano()%int64(c.Every) != 0 {
			t.Errorf("@every %v: Temporal fires at %v, not a multiple of it since the epoch", c.Every, g)
		}
	}
}

// inZone returns ts in loc.
func inZone(ts []time.Time, loc *time.Location) []time.Time {
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = t.In(loc)
	}
	return out
}
