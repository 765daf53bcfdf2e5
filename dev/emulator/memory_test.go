package emulator

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestParseJavaSize(t *testing.T) {
	tests := []struct {
		in          string
		defaultUnit string
		want        int64
	}{
		{"512m", "m", 512},
		{"1g", "m", 1024},
		{"1G", "m", 1024},
		{"2gb", "m", 2048},
		{"1024", "m", 1024},
		{"1t", "m", 1 << 20},
		{"1048576k", "m", 1024},
		{"1500k", "m", 1}, // truncates like Spark's ByteUnit conversion
		{"536870912", "b", 512},
		{" 4g ", "m", 4096},
	}
	for _, tt := range tests {
		got, err := ParseJavaSize(tt.in, tt.defaultUnit)
		if err != nil {
			t.Errorf("ParseJavaSize(%q, %q): %v", tt.in, tt.defaultUnit, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseJavaSize(%q, %q) = %d MiB, want %d", tt.in, tt.defaultUnit, got, tt.want)
		}
	}
	for _, bad := range []string{"", "1.5g", "g", "12x", "-1g", "99999999999999999999p"} {
		if got, err := ParseJavaSize(bad, "m"); err == nil {
			t.Errorf("ParseJavaSize(%q) = %d, want an error", bad, got)
		}
	}
}

func TestExecutorResources(t *testing.T) {
	tests := []struct {
		name           string
		props          Properties
		wantMemory     string
		wantCPURequest string
		wantCPULimit   string // "" = no limit
	}{
		{"defaults: 1g + 384Mi", Properties{}, "1408Mi", "1", ""},
		{"512m: minimum overhead", Properties{"spark.executor.memory": "512m"}, "896Mi", "1", ""},
		{"8g: 10% overhead", Properties{"spark.executor.memory": "8g"}, "9011Mi", "1", ""},
		{"deprecated kubernetes factor", Properties{"spark.kubernetes.memoryOverheadFactor": "0.8"}, "1843Mi", "1", ""},
		{"executor factor wins over kubernetes factor", Properties{"spark.executor.memoryOverheadFactor": "0.5", "spark.kubernetes.memoryOverheadFactor": "0.8"}, "1536Mi", "1", ""},
		{"python factor 0.4", Properties{"spark.kubernetes.memoryOverheadFactor": "0.4"}, "1433Mi", "1", ""},
		{"explicit overhead wins over factor", Properties{"spark.executor.memoryOverhead": "100m", "spark.executor.memoryOverheadFactor": "0.9"}, "1124Mi", "1", ""},
		{"explicit overhead bare MiB", Properties{"spark.executor.memory": "2g", "spark.executor.memoryOverhead": "512"}, "2560Mi", "1", ""},
		{"min overhead setting", Properties{"spark.executor.minMemoryOverhead": "1g"}, "2048Mi", "1", ""},
		{"pyspark memory adds", Properties{"spark.executor.pyspark.memory": "256m"}, "1664Mi", "1", ""},
		{"off-heap adds when enabled", Properties{"spark.memory.offHeap.enabled": "true", "spark.memory.offHeap.size": "1g"}, "2432Mi", "1", ""},
		{"off-heap ignored when disabled", Properties{"spark.memory.offHeap.size": "1g"}, "1408Mi", "1", ""},
		{"cores", Properties{"spark.executor.cores": "4"}, "1408Mi", "4", ""},
		{"request cores win over cores", Properties{"spark.executor.cores": "4", "spark.kubernetes.executor.request.cores": "500m"}, "1408Mi", "500m", ""},
		{"limit cores", Properties{"spark.kubernetes.executor.request.cores": "0.5", "spark.kubernetes.executor.limit.cores": "2"}, "1408Mi", "500m", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ExecutorResourcesFrom(tt.props)
			if err != nil {
				t.Fatalf("ExecutorResourcesFrom(%v): %v", tt.props, err)
			}
			req := r.ResourceRequirements()
			want := resource.MustParse(tt.wantMemory)
			if got := req.Requests.Memory(); got.Cmp(want) != 0 {
				t.Errorf("memory request = %s, want %s", got, tt.wantMemory)
			}
			if got := req.Limits.Memory(); got.Cmp(want) != 0 {
				t.Errorf("memory limit = %s, want %s (request = limit)", got, tt.wantMemory)
			}
			if got := req.Requests.Cpu().String(); got != tt.wantCPURequest {
				t.Errorf("cpu request = %s, want %s", got, tt.wantCPURequest)
			}
			cpuLimit, hasLimit := req.Limits[corev1.ResourceCPU]
			switch {
			case tt.wantCPULimit == "" && hasLimit:
				t.Errorf("cpu limit = %s, want none", cpuLimit.String())
			case tt.wantCPULimit != "" && cpuLimit.String() != tt.wantCPULimit:
				t.Errorf("cpu limit = %s (set: %v), want %s", cpuLimit.String(), hasLimit, tt.wantCPULimit)
			}
		})
	}
}

func TestExecutorResourcesRejectsBadValues(t *testing.T) {
	for _, p := range []Properties{
		{"spark.executor.memory": "lots"},
		{"spark.executor.memoryOverhead": "1.5g"},
		{"spark.executor.memoryOverheadFactor": "-0.1"},
		{"spark.kubernetes.memoryOverheadFactor": "abc"},
		{"spark.executor.cores": "0.5"},
		{"spark.kubernetes.executor.request.cores": "many"},
		{"spark.kubernetes.executor.limit.cores": "0"},
	} {
		if _, err := ExecutorResourcesFrom(p); err == nil {
			t.Errorf("ExecutorResourcesFrom(%v) succeeded, want an error", p)
		}
	}
}
