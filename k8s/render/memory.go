package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kindling-dev/kindling/k8s/job"
)

const (
	memoryOverheadMinMiB     = 384 // ResourceProfile.MEMORY_OVERHEAD_MIN_MIB
	defaultOverheadFactor    = 0.1
	nonJVMOverheadFactor     = 0.4
	mib                      = 1 << 20
	confMemoryOverheadFactor = "spark.kubernetes.memoryOverheadFactor"
)

// MemorySizes is the memory of one pod as Spark sizes it.
type MemorySizes struct {
	HeapMiB     int64
	OverheadMiB int64
	ExtraMiB    int64 // executors: spark.executor.pyspark.memory and off-heap memory
	TotalMiB    int64 // container request = limit
}

// driverMemory sizes the driver as BasicDriverFeatureStep does. It also returns the default
// overhead factor, which the driver passes on to executors as spark.kubernetes.memoryOverheadFactor.
func driverMemory(conf map[string]string, nonJVM bool, overrideMiB int64, spark4 bool) (MemorySizes, float64, error) {
	var sz MemorySizes
	heap, err := job.ParseMiB(confOr(conf, "spark.driver.memory", job.DefaultMemory))
	if err != nil {
		return sz, 0, fmt.Errorf("spark.driver.memory: %w", err)
	}
	defFactor := defaultOverheadFactor
	if nonJVM {
		defFactor = nonJVMOverheadFactor
	}
	if v, ok := conf[confMemoryOverheadFactor]; ok {
		if defFactor, err = job.ParseFactor(v); err != nil {
			return sz, 0, fmt.Errorf("%s: %w", confMemoryOverheadFactor, err)
		}
	}
	factor := defFactor
	if v, ok := conf["spark.driver.memoryOverheadFactor"]; ok {
		if factor, err = job.ParseFactor(v); err != nil {
			return sz, 0, fmt.Errorf("spark.driver.memoryOverheadFactor: %w", err)
		}
	}
	minOverhead, err := minOverheadMiB(conf, "driver", spark4)
	if err != nil {
		return sz, 0, err
	}
	overhead := max(int64(factor*float64(heap)), minOverhead)
	if v, ok := conf["spark.driver.memoryOverhead"]; ok {
		if overhead, err = job.ParseMiB(v); err != nil {
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
func executorMemory(conf map[string]string, overrideMiB int64, spark4 bool) (MemorySizes, error) {
	var sz MemorySizes
	heap, err := job.ParseMiB(confOr(conf, "spark.executor.memory", job.DefaultMemory))
	if err != nil {
		return sz, fmt.Errorf("spark.executor.memory: %w", err)
	}
	factor := defaultOverheadFactor
	for _, k := range []string{confMemoryOverheadFactor, "spark.executor.memoryOverheadFactor"} {
		if v, ok := conf[k]; ok {
			if factor, err = job.ParseFactor(v); err != nil {
				return sz, fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	minOverhead, err := minOverheadMiB(conf, "executor", spark4)
	if err != nil {
		return sz, err
	}
	overhead := max(int64(factor*float64(heap)), minOverhead)
	if v, ok := conf["spark.executor.memoryOverhead"]; ok {
		if overhead, err = job.ParseMiB(v); err != nil {
			return sz, fmt.Errorf("spark.executor.memoryOverhead: %w", err)
		}
	}
	if overrideMiB > 0 {
		overhead = overrideMiB
	}
	var extra int64
	if v, ok := conf["spark.executor.pyspark.memory"]; ok {
		py, err := job.ParseMiB(v)
		if err != nil {
			return sz, fmt.Errorf("spark.executor.pyspark.memory: %w", err)
		}
		extra += py
	}
	if strings.EqualFold(conf["spark.memory.offHeap.enabled"], "true") {
		b, err := job.ParseJavaSize(confOr(conf, "spark.memory.offHeap.size", "0"), 1)
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

// minOverheadMiB is the floor under a factored overhead: 384 MiB, or from Spark 4.0 on
// spark.<role>.minMemoryOverhead (config/package.scala DRIVER_MIN_MEMORY_OVERHEAD and
// EXECUTOR_MIN_MEMORY_OVERHEAD, default 384m; ignored when memoryOverhead is set).
func minOverheadMiB(conf map[string]string, role string, spark4 bool) (int64, error) {
	key := "spark." + role + ".minMemoryOverhead"
	v, ok := conf[key]
	if !spark4 || !ok {
		return memoryOverheadMinMiB, nil
	}
	n, err := job.ParseMiB(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return n, nil
}
