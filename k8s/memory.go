package k8s

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

const (
	memoryOverheadMinMiB     = 384 // ResourceProfile.MEMORY_OVERHEAD_MIN_MIB
	defaultOverheadFactor    = 0.1
	nonJVMOverheadFactor     = 0.4
	defaultMemory            = "1g"
	mib                      = 1 << 20
	confMemoryOverheadFactor = "spark.kubernetes.memoryOverheadFactor"
)

var javaSize = regexp.MustCompile(`^([0-9]+)([a-z]+)?$`)

var javaUnits = map[string]int64{
	"b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50,
}

// parseJavaSize reads a size in Spark's (JavaUtils.byteStringAs) syntax: an integer and an
// optional unit b, k, m, g, t, p (or kb, mb, …); a bare number is in defaultUnit bytes.
// It returns bytes.
func parseJavaSize(s string, defaultUnit int64) (int64, error) {
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

// parseMiB reads a Spark memory setting, whose bare numbers are MiB, and returns MiB.
func parseMiB(s string) (int64, error) {
	b, err := parseJavaSize(s, mib)
	if err != nil {
		return 0, err
	}
	return b / mib, nil
}

// parseFactor reads a memory overhead factor: a number greater than 0.
func parseFactor(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 || f > 100 {
		return 0, fmt.Errorf("%q is not a memory overhead factor (a number greater than 0, e.g. 0.1)", s)
	}
	return f, nil
}

// parseCores reads a CPU amount in Kubernetes' quantity syntax ("1", "0.5", "500m").
func parseCores(s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return q, fmt.Errorf("%q is not a CPU quantity (e.g. 1, 0.5 or 500m)", s)
	}
	if q.Sign() <= 0 {
		return q, fmt.Errorf("%q must be greater than 0", s)
	}
	return q, nil
}

// MemorySizes is the memory of one pod as Spark sizes it.
type MemorySizes struct {
	HeapMiB     int64
	OverheadMiB int64
	ExtraMiB    int64 // executors: spark.executor.pyspark.memory and off-heap memory
	TotalMiB    int64 // container request = limit
}

// driverMemory sizes the driver as BasicDriverFeatureStep does. It also returns the default
// overhead factor, which the driver passes on to executors as spark.kubernetes.memoryOverheadFactor.
func driverMemory(conf map[string]string, nonJVM bool, overrideMiB int64) (MemorySizes, float64, error) {
	var sz MemorySizes
	heap, err := parseMiB(confOr(conf, "spark.driver.memory", defaultMemory))
	if err != nil {
		return sz, 0, fmt.Errorf("spark.driver.memory: %w", err)
	}
	defFactor := defaultOverheadFactor
	if nonJVM {
		defFactor = nonJVMOverheadFactor
	}
	if v, ok := conf[confMemoryOverheadFactor]; ok {
		if defFactor, err = parseFactor(v); err != nil {
			return sz, 0, fmt.Errorf("%s: %w", confMemoryOverheadFactor, err)
		}
	}
	factor := defFactor
	if v, ok := conf["spark.driver.memoryOverheadFactor"]; ok {
		if factor, err = parseFactor(v); err != nil {
			return sz, 0, fmt.Errorf("spark.driver.memoryOverheadFactor: %w", err)
		}
	}
	overhead := max(int64(factor*float64(heap)), memoryOverheadMinMiB)
	if v, ok := conf["spark.driver.memoryOverhead"]; ok {
		if overhead, err = parseMiB(v); err != nil {
			return sz, 0, fmt.Errorf("spark.driver.memoryOverhead: %w", err)
		}
	}
	if overrideMiB > 0 {
		overhead = overrideMiB
	}
	sz = MemorySizes{HeapMiB: heap, OverheadMiB: overhead, TotalMiB: heap + overhead}
	return sz, defFactor, nil
}

// executorMemory sizes an executor as BasicExecutorFeatureStep does, after the driver has set
// spark.kubernetes.memoryOverheadFactor.
func executorMemory(conf map[string]string, overrideMiB int64) (MemorySizes, error) {
	var sz MemorySizes
	heap, err := parseMiB(confOr(conf, "spark.executor.memory", defaultMemory))
	if err != nil {
		return sz, fmt.Errorf("spark.executor.memory: %w", err)
	}
	factor := defaultOverheadFactor
	for _, k := range []string{confMemoryOverheadFactor, "spark.executor.memoryOverheadFactor"} {
		if v, ok := conf[k]; ok {
			if factor, err = parseFactor(v); err != nil {
				return sz, fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	overhead := max(int64(factor*float64(heap)), memoryOverheadMinMiB)
	if v, ok := conf["spark.executor.memoryOverhead"]; ok {
		if overhead, err = parseMiB(v); err != nil {
			return sz, fmt.Errorf("spark.executor.memoryOverhead: %w", err)
		}
	}
	if overrideMiB > 0 {
		overhead = overrideMiB
	}
	var extra int64
	if v, ok := conf["spark.executor.pyspark.memory"]; ok {
		py, err := parseMiB(v)
		if err != nil {
			return sz, fmt.Errorf("spark.executor.pyspark.memory: %w", err)
		}
		extra += py
	}
	if strings.EqualFold(conf["spark.memory.offHeap.enabled"], "true") {
		b, err := parseJavaSize(confOr(conf, "spark.memory.offHeap.size", "0"), 1)
		if err != nil {
			return sz, fmt.Errorf("spark.memory.offHeap.size: %w", err)
		}
		extra += b / mib
	}
	return MemorySizes{HeapMiB: heap, OverheadMiB: overhead, ExtraMiB: extra, TotalMiB: heap + overhead + extra}, nil
}

func confOr(conf map[string]string, key, def string) string {
	if v, ok := conf[key]; ok {
		return v
	}
	return def
}

func formatFactor(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
