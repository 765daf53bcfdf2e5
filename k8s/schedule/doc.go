// Package schedule translates the kubeflow Spark operator's cron schedules to Temporal
// Schedules.
//
// A ScheduledSparkApplication's spec.schedule and spec.timeZone are parsed exactly as the
// operator parses them: the operator prefixes the expression with CRON_TZ=<spec.timeZone>
// (or CRON_TZ=Local when it is unset) unless the expression carries its own CRON_TZ= or TZ=
// prefix, and hands the result to github.com/robfig/cron/v3's ParseStandard. The parsed
// bitmasks, not the expression's text, become Temporal calendars, so Temporal's own cron
// parser never sees the expression: the fire times are the operator's, including robfig's
// rule that a day of month or a day of week matches when both fields are restricted.
//
// What cannot be kept is said in warnings: an unset or Local zone runs in UTC, @every counts
// from the Unix epoch rather than from the last run, and around DST changes the Temporal
// server fires differently from robfig in some zones; each such change is named with its
// date. Next and Prev give the times the Temporal schedule fires, so the data intervals of
// its runs follow each other with no gap.
package schedule
