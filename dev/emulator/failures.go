package emulator

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ExitMaxExecutorFailures is the exit code of a driver that gave up on failing executors:
// SparkExitCode.EXCEED_MAX_EXECUTOR_FAILURES, which ExecutorPodsAllocator (Spark 3.5) and
// ExecutorPodsLifecycleManager (Spark 4.0) pass to sys.exit.
const ExitMaxExecutorFailures = 11

// ExecutorFailureLimit is when Spark's driver gives up on failing executors. After every
// snapshot of the executor pods, Spark counts each executor it has seen Failed once
// (ExecutorFailureTracker.registerExecutorFailure; deleted and succeeded executors do not
// count) and, when the count exceeds Max, logs "Max number of executor failures (Max)
// reached" and exits with ExitMaxExecutorFailures.
type ExecutorFailureLimit struct {
	// Enabled: Spark 3.5 (SPARK-41210) with spark.kubernetes.allocation.pods.allocator=direct,
	// its default, and any allocator from 4.0 (SPARK-49868 moved the check into
	// ExecutorPodsLifecycleManager). Before 3.5 the driver replaces failed executors forever.
	Enabled bool
	// Max is spark.executor.maxNumFailures.
	Max int
	// Validity is spark.executor.failuresValidityInterval: only failures this recent count.
	// 0 counts all.
	Validity time.Duration
}

// Failures counts the failures that are recent enough to count at now.
func (l ExecutorFailureLimit) Failures(failedAt []time.Time, now time.Time) int {
	n := 0
	for _, t := range failedAt {
		// ExecutorFailureTracker.updateAndCountFailures drops those before now - interval.
		if l.Validity <= 0 || !t.Before(now.Add(-l.Validity)) {
			n++
		}
	}
	return n
}

// Exceeded says whether Spark gives up with these failures.
func (l ExecutorFailureLimit) Exceeded(failedAt []time.Time, now time.Time) bool {
	return l.Enabled && l.Failures(failedAt, now) > l.Max
}

// Message is what Spark's driver logs when it gives up.
func (l ExecutorFailureLimit) Message() string {
	return fmt.Sprintf("Max number of executor failures (%d) reached", l.Max)
}

// executorFailureLimit reads the limit from the conf (core's config/package.scala
// MAX_EXECUTOR_FAILURES "spark.executor.maxNumFailures", intConf, optional, since 3.5.0;
// EXECUTOR_ATTEMPT_FAILURE_VALIDITY_INTERVAL_MS "spark.executor.failuresValidityInterval",
// timeConf in ms, optional) and the driver's spark-version label.
func executorFailureLimit(driver *corev1.Pod, p Properties) (ExecutorFailureLimit, error) {
	major, minor := sparkVersion(driver)
	if major < 3 || major == 3 && minor < 5 {
		return ExecutorFailureLimit{}, nil
	}
	if major == 3 && p.Get("spark.kubernetes.allocation.pods.allocator", "direct") != "direct" {
		return ExecutorFailureLimit{}, nil
	}
	l := ExecutorFailureLimit{Enabled: true}
	if v := p.Get("spark.executor.maxNumFailures", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return l, fmt.Errorf("read spark.executor.maxNumFailures=%q: want a whole number", v)
		}
		l.Max = n
	} else {
		var err error
		if l.Max, err = defaultMaxExecutorFailures(p); err != nil {
			return l, err
		}
	}
	if v := p.Get("spark.executor.failuresValidityInterval", ""); v != "" {
		ms, err := parseSparkTime(v, time.Millisecond)
		if err != nil {
			return l, fmt.Errorf("read spark.executor.failuresValidityInterval=%q: %w", v, err)
		}
		l.Validity = ms
	}
	return l, nil
}

// defaultMaxExecutorFailures is ExecutorFailureTracker.maxNumExecutorFailures without
// spark.executor.maxNumFailures: twice the executors, at least 3. The executors are
// spark.executor.instances, 0 when unset (not the allocator's default of 2), or with dynamic
// allocation its maximum, Int.MaxValue by default (so, in effect, no limit).
func defaultMaxExecutorFailures(p Properties) (int, error) {
	intProp := func(key string, def int) (int, error) {
		v := p.Get(key, "")
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > math.MaxInt32 {
			return 0, fmt.Errorf("read %s=%q: want a non-negative whole number", key, v)
		}
		return n, nil
	}
	var effective int
	var err error
	streaming, _ := strconv.ParseBool(p.Get("spark.streaming.dynamicAllocation.enabled", "false"))
	dynamic, _ := strconv.ParseBool(p.Get("spark.dynamicAllocation.enabled", "false"))
	switch {
	case streaming:
		effective, err = intProp("spark.streaming.dynamicAllocation.maxExecutors", math.MaxInt32)
	case dynamic:
		effective, err = intProp("spark.dynamicAllocation.maxExecutors", math.MaxInt32)
	default:
		effective, err = intProp("spark.executor.instances", 0)
	}
	if err != nil {
		return 0, err
	}
	if effective > math.MaxInt32/2 {
		return math.MaxInt32, nil
	}
	return max(3, 2*effective), nil
}

var sparkTime = regexp.MustCompile(`^(-?[0-9]+)([a-z]+)?$`)

// parseSparkTime is JavaUtils.timeStringAs: a whole number with an optional unit (us, ms, s,
// m, min, h, d); without one, the number is in unit.
func parseSparkTime(s string, unit time.Duration) (time.Duration, error) {
	m := sparkTime.FindStringSubmatch(strings.TrimSpace(strings.ToLower(s)))
	if m == nil {
		return 0, fmt.Errorf("want a whole number with an optional unit (us, ms, s, m, min, h, d)")
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %q: %w", m[1], err)
	}
	units := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second,
		"m": time.Minute, "min": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	if m[2] != "" {
		u, ok := units[m[2]]
		if !ok {
			return 0, fmt.Errorf("unit %q is not one of us, ms, s, m, min, h, d", m[2])
		}
		unit = u
	}
	return time.Duration(n) * unit, nil
}

// sparkVersion reads the driver's spark-version label ("3.5.3" is 3, 5). A missing or
// unreadable label reads as 4.0, the newest Spark the emulator follows.
func sparkVersion(driver *corev1.Pod) (major, minor int) {
	parts := strings.SplitN(driver.Labels[LabelSparkVersion], ".", 3)
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return 4, 0
	}
	if len(parts) > 1 {
		if minor, err = strconv.Atoi(parts[1]); err != nil {
			minor = 0
		}
	}
	return major, minor
}
