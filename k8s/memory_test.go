package k8s

import "testing"

// Spark's numbers, from BasicDriverFeatureStepSuite and KubernetesSuite.
func TestMemorySizesMatchSpark(t *testing.T) {
	for _, tc := range []struct {
		name      string
		typ       ApplicationType
		memory    string
		conf      map[string]string
		wantTotal int64
	}{
		{"512m JVM driver gets the 384Mi minimum", TypeScala, "512m", nil, 896},
		{"1g JVM driver", TypeScala, "1g", nil, 1408},
		{"1g Python driver uses factor 0.4", TypePython, "1g", nil, 1433},
		{"1g R driver uses factor 0.4", TypeR, "1g", nil, 1433},
		{"deprecated factor 0.8", TypeScala, "1g", map[string]string{"spark.kubernetes.memoryOverheadFactor": "0.8"}, 1843},
		{"Python 2g is 2g + 0.4 x 2g", TypePython, "2g", nil, 2048 + 819},
		{"explicit overhead wins", TypeScala, "1g", map[string]string{"spark.driver.memoryOverhead": "200"}, 1224},
		{"driver factor beats the deprecated one", TypePython, "1g", map[string]string{"spark.driver.memoryOverheadFactor": "0.2", "spark.kubernetes.memoryOverheadFactor": "0.8"}, 1024 + 384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := minimalSpec()
			spec.Type = tc.typ
			spec.Driver.Memory = tc.memory
			spec.SparkConf = tc.conf
			r, err := Render(spec, RenderOptions{WorkflowID: "wf", Attempt: 1})
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
	spec.Type = TypePython
	spec.Executor.Memory = "1g"
	r, err := Render(spec, RenderOptions{WorkflowID: "wf", Attempt: 1})
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
	r, err := Render(spec, RenderOptions{WorkflowID: "wf", Attempt: 2, DriverMemoryOverheadMiB: 1024, ExecutorMemoryOverheadMiB: 700})
	if err != nil {
		t.Fatal(err)
	}
	if r.DriverMemoryMiB != 2048 || r.DriverMemoryOverheadMiB != 1024 {
		t.Errorf("driver = %dMi (overhead %dMi), want 2048Mi (1024Mi)", r.DriverMemoryMiB, r.DriverMemoryOverheadMiB)
	}
	if r.ExecutorMemoryMiB != 1024+700 {
		t.Errorf("executor = %dMi, want %dMi", r.ExecutorMemoryMiB, 1024+700)
	}
}

func TestParseJavaSize(t *testing.T) {
	for in, want := range map[string]int64{"512m": 512, "1g": 1024, "2G": 2048, "1024": 1024, "1t": 1 << 20, "1048576k": 1024, "1gb": 1024} {
		if got, err := parseMiB(in); err != nil || got != want {
			t.Errorf("parseMiB(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"1Gi", "512Mi", "1.5g", "", "-1g", "g"} {
		if _, err := parseMiB(in); err == nil {
			t.Errorf("parseMiB(%q) accepted a size Spark rejects", in)
		}
	}
}

func TestCPURequestAndLimit(t *testing.T) {
	spec := minimalSpec()
	spec.Driver.CoreRequest = "0.5"
	spec.Driver.CoreLimit = "800m"
	spec.Executor.CoreRequest = "1200m"
	spec.Executor.CoreLimit = "1500m"
	r, err := Render(spec, RenderOptions{WorkflowID: "wf", Attempt: 1})
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
