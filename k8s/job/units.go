package job

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Spark's sizes: what a memory setting holds when none is given, and the unit of a bare number.
const (
	DefaultMemory = "1g"
	mib           = 1 << 20
)

var javaSize = regexp.MustCompile(`^([0-9]+)([a-z]+)?$`)

var javaUnits = map[string]int64{
	"b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50,
}

// ParseJavaSize reads a size in Spark's (JavaUtils.byteStringAs) syntax: an integer and an
// optional unit b, k, m, g, t, p (or kb, mb, …); a bare number is in defaultUnit bytes.
// It returns bytes.
func ParseJavaSize(s string, defaultUnit int64) (int64, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	m := javaSize.FindStringSubmatch(v)
	if m == nil {
		if regexp.MustCompile(`^[0-9]+\.[0-9]+[a-z]*$`).MatchString(v) {
			return 0, fmt.Errorf("%q: fractional values are not supported; use a smaller unit, e.g. 1536m", s)
		}
		return 0, fmt.Errorf("%q is not a size in Spark's syntax (an integer with an optional unit b, k, m, g, t, p, e.g. 512m or 2g)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	unit := defaultUnit
	if m[2] != "" {
		u, ok := javaUnits[m[2]]
		if !ok {
			return 0, fmt.Errorf("%q has unit %q, which Spark does not know (b, k, m, g, t, p; Kubernetes' Mi and Gi are not Spark sizes)", s, m[2])
		}
		unit = u
	}
	if n > (1<<62)/unit {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * unit, nil
}

// ParseMiB reads a Spark memory setting, whose bare numbers are MiB, and returns MiB.
func ParseMiB(s string) (int64, error) {
	b, err := ParseJavaSize(s, mib)
	if err != nil {
		return 0, err
	}
	return b / mib, nil
}

// ParseFactor reads a memory overhead factor: a number greater than 0.
func ParseFactor(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 || f > 100 {
		return 0, fmt.Errorf("%q is not a memory overhead factor (a number greater than 0, e.g. 0.1)", s)
	}
	return f, nil
}

// ParseCores reads a CPU amount in Kubernetes' quantity syntax ("1", "0.5", "500m").
func ParseCores(s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return q, fmt.Errorf("%q is not a CPU quantity (e.g. 1, 0.5 or 500m)", s)
	}
	if q.Sign() <= 0 {
		return q, fmt.Errorf("%q must be greater than 0", s)
	}
	return q, nil
}
