package schedule

import (
	"time"

	"go.temporal.io/sdk/client"
)

// maxYear is the last year a Temporal calendar matches.
const maxYear = 2100

// calendar is a Temporal calendar as bit sets, one per field.
type calendar struct{ sec, min, hour, dom, month, dow uint64 }

// calendarsOf returns the calendars of a spec as bit sets.
func calendarsOf(spec client.ScheduleSpec) []calendar {
	var out []calendar
	for _, c := range spec.Calendars {
		out = append(out, calendar{rangeBits(c.Second), rangeBits(c.Minute), rangeBits(c.Hour),
			rangeBits(c.DayOfMonth), rangeBits(c.Month), rangeBits(c.DayOfWeek)})
	}
	return out
}

// rangeBits expands Temporal ranges as Temporal does: no step is a step of 1, an end before
// the start is the start.
func rangeBits(rs []client.ScheduleRange) uint64 {
	var bits uint64
	for _, r := range rs {
		step, end := max(r.Step, 1), max(r.End, r.Start)
		for v := r.Start; v <= end; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits
}

// wallFields is the position of a walk through wall-clock times, field by field.
type wallFields struct {
	y          int
	mo         time.Month
	d, h, m, s int
	// repeat is set while walking the second pass of an hour the clock repeats (DST ending);
	// each time found then is an hour later than time.Date makes it.
	repeat bool
}

// next models how a Temporal server finds a calendar's first time after t (server 1.29; the
// real-server test holds the model to the server): it walks the
// wall-clock fields upward, builds each candidate with time.Date, drops one whose hour
// time.Date moved (a time in a gap whose hour does not exist), and walks an hour the clock
// repeats a second time, an hour later. time.Date gives an ambiguous wall-clock time one of
// its two instants: the first west of UTC, the second east of it. So east of UTC the first
// pass already lands on the second instants, and the second pass, an hour later still, runs
// past the overlap.
func (k calendar) next(t time.Time, loc *time.Location) time.Time {
	w := t.In(loc)
	f := wallFields{y: w.Year(), mo: w.Month(), d: w.Day(), h: w.Hour(), m: w.Minute(), s: w.Second() + 1}
	f.repeat = w.Add(-time.Hour).Hour() == f.h
	for f.carry(loc) {
		if !k.fit(&f, loc) {
			continue
		}
		at := time.Date(f.y, f.mo, f.d, f.h, f.m, f.s, 0, loc)
		if at.Hour() != f.h {
			f.h, f.m, f.s = f.h+1, 0, 0
			continue
		}
		if f.repeat {
			at = at.Add(time.Hour)
		}
		return at
	}
	return time.Time{}
}

// carry moves a field that ran past its range into the next larger one; false past maxYear.
func (f *wallFields) carry(loc *time.Location) bool {
	if f.s >= 60 {
		f.m, f.s = f.m+1, 0
	}
	if f.m >= 60 {
		f.nextHour(loc)
	}
	if f.h >= 24 {
		f.d, f.h = f.d+1, 0
	}
	if f.d > daysIn(f.mo, f.y) {
		f.mo, f.d = f.mo+1, 1
	}
	if f.mo > time.December {
		f.y, f.mo = f.y+1, time.January
	}
	return f.y <= maxYear
}

// nextHour moves to the next hour, or back to the start of this one for its second pass
// when the next hour starts more than an hour later (the clock repeats this one).
func (f *wallFields) nextHour(loc *time.Location) {
	start := time.Date(f.y, f.mo, f.d, f.h, 0, 0, 0, loc)
	f.h, f.m = f.h+1, 0
	end := time.Date(f.y, f.mo, f.d, f.h, 0, 0, 0, loc)
	if !f.repeat && end.Sub(start) > time.Hour {
		f.h, f.repeat = f.h-1, true
	} else {
		f.repeat = false
	}
}

// fit moves f to the first fields at or after it that match, month to second; false when
// a field ran past its range and must carry.
func (k calendar) fit(f *wallFields, loc *time.Location) bool {
	for !bit(k.month, int(f.mo)) {
		f.mo, f.d, f.h, f.m, f.s, f.repeat = f.mo+1, 1, 0, 0, 0, false
		if f.mo > time.December {
			return false
		}
	}
	for !k.dayMatches(f, loc) {
		f.d, f.h, f.m, f.s, f.repeat = f.d+1, 0, 0, 0, false
		if f.d > daysIn(f.mo, f.y) {
			return false
		}
	}
	for !bit(k.hour, f.h) {
		f.h, f.m, f.s, f.repeat = f.h+1, 0, 0, false
		if f.h >= 24 {
			return false
		}
	}
	return k.fitClock(f)
}

// fitClock is fit for the minute and the second.
func (k calendar) fitClock(f *wallFields) bool {
	for !bit(k.min, f.m) {
		f.m, f.s = f.m+1, 0
		if f.m >= 60 {
			return false
		}
	}
	for !bit(k.sec, f.s) {
		f.s++
		if f.s >= 60 {
			return false
		}
	}
	return true
}

// dayMatches requires both day fields, the day of week taken from time.Date.
func (k calendar) dayMatches(f *wallFields, loc *time.Location) bool {
	wd := time.Date(f.y, f.mo, f.d, f.h, f.m, f.s, 0, loc).Weekday()
	return bit(k.dom, f.d) && bit(k.dow, int(wd))
}

// daysIn is the number of days of month mo of year y (January of the next year after
// December).
func daysIn(mo time.Month, y int) int {
	return time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
