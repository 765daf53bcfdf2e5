package render

import (
	"testing"

	"github.com/kindling-dev/kindling/k8s/job"
)

// Spark's numbers, from BasicDriverFeatureStepSuite and KubernetesSuite.
func TestMemorySizesMatchSpark(t *testing.T) {
	for _, tc := range []struct {
		name      string
		typ       job.ApplicationType
		memory    string
		conf      map[string]string
		wantTotal int64
	}{
		{"512m JVM driver gets the 384Mi minimum", job.TypeScala, "512m", nil, 896},
		{"1g JVM driver", job.TypeScala, "1g", nil, 1408},
		{"1g Python driver uses factor 0.4", job.TypePython, "1g", nil, 1433},
		{"1g R driver uses factor 0.4", job.TypeR, "1g", nil, 1433},
		{"deprecated factor 0.8", job.TypeScala, "1g", map[string]string{"spark.kubernetes.memoryOverheadFactor": "0.8"}, 1843},
		{"Python 2g is 2g + 0.4 x 2g", job.TypePython, "2g", nil, 2048 + 819},
		{"explicit overhead wins", job.TypeScala, "1g", map[string]string{"spark.driver.memoryOverhead": "200"}, 1224},
		{"driver factor beats the deprecated one", job.TypePython, "1g", map[string]string{"spark.driver.memoryOverheadFactor": "0.2", "spark.kubernetes.memoryOverheadFactor": "0.8"}, 1024 + 384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := minimalSpec()
			spec.Type = tc.typ
			spec.Driver.Memory = tc.memory
			spec.SparkConf = tc.conf
			r, err := Attempt(spec, Options{WorkflowID: "wf", Attempt: 1})
			if err != nil {
				t.Fatal(err)
			}
			if r.DriverMemoryMiB != tc.wantTotal {
				t.Errorf("driver memory = %dMi, want %dMi", r.DriverMemoryMiB, tc.wantTotal)
			}
			c := r.DriverPod.Spec.Containers[0]
			req, lim := c.Resources.Requests.Memory(), c.Resources.Limits.Memory()
			if req.Value() != tc.wantTotal*mib || !req.Equal(*lim) {
				t.Errorf("container memory request %s limit %s, want both %dMi", req, lim, tc.wantTotal)
			}
		})
	}
}

func TestExecutorInheritsNonJVMFactor(t *testing.T) {
	spec := minimalSpec()
	spec.Type = job.TypePython
	spec.Executor.Memory = "1g"
	r, err := Attempt(spec, Options{WorkflowID: "wf", Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.ExecutorMemoryMiB != 1433 {
		t.Errorf("Python executor memory = %dMi, want 1433Mi", r.ExecutorMemoryMiB)
	}
}

func TestOverheadOverrideRaisesMemory(t *testing.T) {
	spec := minimalSpec()
	spec.Driver.Memory = "1g"
	r, err := Attempt(spec, Options{WorkflowID: "wf", Attempt: 2, DriverMemoryOverheadMiB: 1024, ExecutorMemoryOverheadMiB: 700})
	if err != nil {
		t.Fatal(err)
	}
	if r.DriverMemoryMiB != 2048 || r.DriverMemoryOverheadMiB != 1024 {
		t.Errorf("driver = %dMi (overhead %dMi), want 2048Mi (1024Mi)", r.DriverMemoryMiB, r.DriverMemoryOverheadMiB)
	}
	if r.ExecutorMemoryMiB != 1024+700 {
		t.Errorf("executor = %dMi, want %dMi", r.ExecutorMemoryMiB, 1024+700)
	}
	// Spark sizes executors from spark.properties: the raise must be there, or executors
	// OOM again however often the job is retried.
	props := readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])
	if got := props["spark.executor.memoryOverhead"]; got != "700m" {
		t.Errorf("spark.executor.memoryOverhead = %q, want 700m", got)
	}
	if got := props["spark.driver.memoryOverhead"]; got != "1024m" {
		t.Errorf("spark.driver.memoryOverhead = %q, want 1024m", got)
	}
}

func TestCPURequestAndLimit(t *testing.T) {
	spec := minimalSpec()
	spec.Driver.CoreRequest = "0.5"
	spec.Driver.CoreLimit = "800m"
	spec.Executor.CoreRequest = "1200m"
	spec.Executor.CoreLimit = "1500m"
	r, err := Attempt(spec, Options{WorkflowID: "wf", Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	res := r.DriverPod.Spec.Containers[0].Resources
	if got := res.Requests.Cpu().String(); got != "500m" {
		t.Errorf("driver CPU request = %s, want 500m", got)
	}
	if got := res.Limits.Cpu().String(); got != "800m" {
		t.Errorf("driver CPU limit = %s, want 800m", got)
	}
}
