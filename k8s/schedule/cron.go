package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	// The operator embeds the zone database; so does Kindling, so a zone the operator
	// accepts is accepted here whatever the host has installed.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// Cron is a ScheduledSparkApplication's schedule, parsed as the operator parses it.
type Cron struct {
	// Expr is the expression as written, without its CRON_TZ= or TZ= prefix.
	Expr string
	// TimeZone is the IANA name of the zone the schedule runs in; never "" or "Local".
	TimeZone string
	// Every is the interval of an "@every d" schedule, as robfig rounds it (whole seconds,
	// at least one); 0 for every other schedule.
	Every time.Duration

	spec      *cron.SpecSchedule // nil for @every
	loc       *time.Location
	sameInUTC bool           // Spec's calendars run in UTC (see Spec)
	cals      []calendar     // Spec's calendars, for Next
	calLoc    *time.Location // the zone Spec's calendars run in
}

// everyPrefix starts robfig's interval descriptor.
const everyPrefix = "@every "

// Parse parses spec.schedule and spec.timeZone as the operator does. Its errors name the
// field and the rule; its warnings say where Kindling cannot keep the operator's meaning
// exactly or where Temporal's runs may surprise: an unset or Local zone (UTC is used), @every
// (counted from the Unix epoch), a schedule that never fires, and the DST gaps and overlaps
// of the coming year (see DSTWarnings).
func Parse(schedule, timeZone string) (*Cron, []string, error) {
	if err := checkTimeZone(timeZone); err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(schedule) == "" {
		return nil, nil, errors.New("spec.schedule: is required")
	}
	p, err := splitPrefix(schedule)
	if err != nil {
		return nil, nil, err
	}
	full := schedule
	if !p.present {
		full = "CRON_TZ=" + operatorZone(timeZone) + " " + schedule
	}
	parsed, err := cron.ParseStandard(full)
	if err != nil {
		return nil, nil, fmt.Errorf("spec.schedule: %q: %w", schedule, err)
	}
	c := newCron(parsed, p, timeZone)
	return c, c.warnings(p, timeZone, time.Now()), nil
}

// checkTimeZone rejects a spec.timeZone the operator rejects: it loads any zone that is set,
// even when the schedule's own prefix wins over it.
func checkTimeZone(timeZone string) error {
	if timeZone == "" {
		return nil
	}
	if _, err := time.LoadLocation(timeZone); err != nil {
		return fmt.Errorf("spec.timeZone: %q: %w", timeZone, err)
	}
	return nil
}

// operatorZone is the zone the operator puts in the CRON_TZ= prefix it adds.
func operatorZone(timeZone string) string {
	if timeZone == "" {
		return "Local"
	}
	return timeZone
}

// prefix is a schedule's own CRON_TZ= or TZ= prefix, split as robfig splits it.
type prefix struct {
	present bool
	key     string // "CRON_TZ" or "TZ"
	zone    string // the name after "=", possibly "" (UTC) or "Local"
	expr    string // the expression after the prefix, trimmed
}

// splitPrefix splits off a CRON_TZ= or TZ= prefix: the zone runs from "=" to the first
// space. robfig fails (it panics) when there is no space, so that is an error here.
func splitPrefix(schedule string) (prefix, error) {
	if !strings.HasPrefix(schedule, "TZ=") && !strings.HasPrefix(schedule, "CRON_TZ=") {
		return prefix{expr: strings.TrimSpace(schedule)}, nil
	}
	head, rest, found := strings.Cut(schedule, " ")
	if !found {
		return prefix{}, fmt.Errorf("spec.schedule: %q: a CRON_TZ= or TZ= prefix must be followed by a space and the expression", schedule)
	}
	key, zone, _ := strings.Cut(head, "=")
	return prefix{present: true, key: key, zone: zone, expr: strings.TrimSpace(rest)}, nil
}

// newCron builds the Cron of a schedule robfig parsed; the zone was already loaded once,
// by checkTimeZone or by robfig, so loading it cannot fail.
func newCron(parsed cron.Schedule, p prefix, timeZone string) *Cron {
	name := operatorZone(timeZone)
	if p.present {
		name = p.zone
	}
	loc, _ := time.LoadLocation(name)
	if loc == time.Local {
		loc = time.UTC
	}
	c := &Cron{Expr: p.expr, TimeZone: loc.String(), loc: loc}
	switch s := parsed.(type) {
	case *cron.SpecSchedule:
		spec := *s
		spec.Location = loc
		c.spec, c.sameInUTC = &spec, sameInUTC(&spec, loc)
		c.cals, c.calLoc = calendarsOf(c.Spec()), loc
		if c.sameInUTC {
			c.calLoc = time.UTC
		}
	case cron.ConstantDelaySchedule:
		c.Every = s.Delay
	}
	return c
}

// Location returns the zone the schedule runs in (UTC when the manifest names none or Local).
func (c *Cron) Location() *time.Location { return c.loc }
