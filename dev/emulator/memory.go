package emulator

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Spark's MEMORY_OVERHEAD_MIN_MIB: no executor gets less overhead than this unless
// spark.executor.minMemoryOverhead says otherwise.
const minMemoryOverheadMiB = 384

var javaSizePattern = regexp.MustCompile(`^([0-9]+)([a-z]*)$`)

// byteUnits are Spark's JavaUtils suffixes, in bytes.
var byteUnits = map[string]int64{
	"b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50,
}

// ParseJavaSize converts a Java size string ("512m", "2g", "1024") to MiB as Spark's
// JavaUtils.byteStringAs does: a bare number is in defaultUnit, smaller units truncate.
func ParseJavaSize(s string, defaultUnit string) (int64, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	m := javaSizePattern.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("size %q is not a whole number with an optional unit (b, k, m, g, t, p)", s)
	}
	unit := m[2]
	if unit == "" {
		unit = defaultUnit
	}
	mult, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("size %q has unknown unit %q", s, m[2])
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult / (1 << 20), nil
}

// ExecutorResources are what Spark's BasicExecutorFeatureStep puts on an executor container.
type ExecutorResources struct {
	MemoryMiB   int64 // spark.executor.memory (heap)
	OverheadMiB int64
	PySparkMiB  int64
	OffHeapMiB  int64
	CPURequest  resource.Quantity
	CPULimit    *resource.Quantity // nil when spark.kubernetes.executor.limit.cores is unset
}

// TotalMiB is the container memory request and limit.
func (r ExecutorResources) TotalMiB() int64 {
	return r.MemoryMiB + r.OverheadMiB + r.PySparkMiB + r.OffHeapMiB
}

// ResourceRequirements renders r as Spark does: memory request = limit in Mi, CPU limit only
// when one was asked for.
func (r ExecutorResources) ResourceRequirements() corev1.ResourceRequirements {
	mem := resource.MustParse(fmt.Sprintf("%dMi", r.TotalMiB()))
	req := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: r.CPURequest, corev1.ResourceMemory: mem},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: mem},
	}
	if r.CPULimit != nil {
		req.Limits[corev1.ResourceCPU] = *r.CPULimit
	}
	return req
}

// ExecutorResourcesFrom applies Spark's executor memory and CPU rules to the driver's conf.
func ExecutorResourcesFrom(p Properties) (ExecutorResources, error) {
	var r ExecutorResources
	var err error
	if r.MemoryMiB, err = sizeMiB(p, "spark.executor.memory", "1g"); err != nil {
		return r, err
	}
	if v := p.Get("spark.executor.memoryOverhead", ""); v != "" {
		if r.OverheadMiB, err = sizeMiB(p, "spark.executor.memoryOverhead", ""); err != nil {
			return r, err
		}
	} else {
		factorKey := "spark.executor.memoryOverheadFactor"
		if p.Get(factorKey, "") == "" {
			factorKey = "spark.kubernetes.memoryOverheadFactor"
		}
		factor := 0.1
		if v := p.Get(factorKey, ""); v != "" {
			factor, err = strconv.ParseFloat(v, 64)
			if err != nil || factor <= 0 || math.IsInf(factor, 0) || math.IsNaN(factor) {
				return r, fmt.Errorf("read %s=%q: want a positive number", factorKey, v)
			}
		}
		minimum := int64(minMemoryOverheadMiB)
		if p.Get("spark.executor.minMemoryOverhead", "") != "" {
			if minimum, err = sizeMiB(p, "spark.executor.minMemoryOverhead", ""); err != nil {
				return r, err
			}
		}
		r.OverheadMiB = max(int64(factor*float64(r.MemoryMiB)), minimum)
	}
	if r.PySparkMiB, err = sizeMiB(p, "spark.executor.pyspark.memory", "0"); err != nil {
		return r, err
	}
	if on, _ := strconv.ParseBool(p.Get("spark.memory.offHeap.enabled", "false")); on {
		// spark.memory.offHeap.size is a bytes setting, unlike the MiB settings above.
		v := p.Get("spark.memory.offHeap.size", "0")
		if r.OffHeapMiB, err = ParseJavaSize(v, "b"); err != nil {
			return r, fmt.Errorf("read spark.memory.offHeap.size: %w", err)
		}
	}

	cores := p.Get("spark.executor.cores", "1")
	n, err := strconv.Atoi(cores)
	if err != nil || n <= 0 {
		return r, fmt.Errorf("read spark.executor.cores=%q: want a positive whole number", cores)
	}
	r.CPURequest = *resource.NewQuantity(int64(n), resource.DecimalSI)
	if v := p.Get("spark.kubernetes.executor.request.cores", ""); v != "" {
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Sign() <= 0 {
			return r, fmt.Errorf("read spark.kubernetes.executor.request.cores=%q: want a positive quantity", v)
		}
		r.CPURequest = q
	}
	if v := p.Get("spark.kubernetes.executor.limit.cores", ""); v != "" {
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Sign() <= 0 {
			return r, fmt.Errorf("read spark.kubernetes.executor.limit.cores=%q: want a positive quantity", v)
		}
		r.CPULimit = &q
	}
	return r, nil
}

// sizeMiB reads a MiB-default size setting.
func sizeMiB(p Properties, key, def string) (int64, error) {
	v := p.Get(key, def)
	n, err := ParseJavaSize(v, "m")
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	return n, nil
}
