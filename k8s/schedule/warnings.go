package schedule

import (
	"fmt"
	"strings"
	"time"
)

// warnings are Parse's warnings for a schedule parsed at now.
func (c *Cron) warnings(p prefix, timeZone string, now time.Time) []string {
	var out []string
	if c.spec == nil {
		out = append(out, c.everyWarnings()...)
	} else {
		out = append(out, zoneWarnings(p, timeZone, c.TimeZone)...)
		if c.Next(now).IsZero() {
			out = append(out, fmt.Sprintf("spec.schedule %q never fires: no date matches it", c.Expr))
		}
		out = append(out, c.DSTWarnings(now)...)
	}
	return out
}

// zoneWarnings say which zone runs the schedule when it is not the one the manifest seems to
// name: the operator pod's zone (unset or Local) becomes UTC, and a prefix wins over
// spec.timeZone.
func zoneWarnings(p prefix, timeZone, used string) []string {
	switch {
	case p.present && p.zone == "Local":
		return []string{fmt.Sprintf("spec.schedule's %s=Local prefix names the operator pod's zone: Kindling runs the schedule in UTC", p.key)}
	case p.present && timeZone != "" && timeZone != p.zone:
		return []string{fmt.Sprintf("spec.schedule's %s=%s prefix wins over spec.timeZone %q, as with the operator: the schedule runs in %s", p.key, p.zone, timeZone, used)}
	case p.present:
		return nil
	case timeZone == "":
		return []string{"spec.timeZone is not set: Kindling runs the schedule in UTC (the operator would use its pod's zone)"}
	case timeZone == "Local":
		return []string{"spec.timeZone is Local: Kindling runs the schedule in UTC (the operator would use its pod's zone)"}
	}
	return nil
}

// everyWarnings say how Temporal's intervals differ from the operator's, and when robfig
// rounded the interval written.
func (c *Cron) everyWarnings() []string {
	out := []string{fmt.Sprintf("spec.schedule %q: Temporal runs it at the multiples of %s since the Unix epoch (1970-01-01 00:00 UTC); the operator runs it %s after its previous run", c.Expr, c.Every, c.Every)}
	written, err := time.ParseDuration(strings.TrimPrefix(c.Expr, everyPrefix))
	if err == nil && written != c.Every {
		out = append(out, fmt.Sprintf("spec.schedule %q: the operator's cron library runs it every %s (whole seconds, at least one), and so does Kindling", c.Expr, c.Every))
	}
	return out
}
