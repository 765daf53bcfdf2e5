package job

import (
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

var appIDPattern = regexp.MustCompile(`^spark-[0-9a-f]{32}$`)

func checkNames(t *testing.T, n Names) {
	t.Helper()
	if !appIDPattern.MatchString(n.AppID) {
		t.Errorf("app id %q is not spark-<32 hex>", n.AppID)
	}
	for what, name := range map[string]string{"prefix": n.ResourcePrefix, "driver": n.DriverPod, "service": n.Service, "configmap": n.ConfigMap, "executor": n.ExecutorPrefix + "-exec-99999"} {
		if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
			t.Errorf("%s name %q: %v", what, name, msgs)
		}
	}
}

func TestMakeNames(t *testing.T) {
	for _, job := range []string{"spark-pi", strings.Repeat("a", 200), "Spark.Pi_Job", "日本語ジョブ", "", "-x-", "123"} {
		n := MakeNames(job, "wf-1", 1)
		checkNames(t, n)
		if n != MakeNames(job, "wf-1", 1) {
			t.Errorf("names for %q are not deterministic", job)
		}
		if n2 := MakeNames(job, "wf-1", 2); n2.DriverPod == n.DriverPod || n2.AppID == n.AppID {
			t.Errorf("attempt 2 of %q reuses attempt 1's names", job)
		}
	}
	n := MakeNames("spark-pi", "wf-1", 1)
	if !strings.HasPrefix(n.DriverPod, "spark-pi-") || !strings.HasSuffix(n.DriverPod, "-driver") || n.Service != n.ResourcePrefix+"-driver-svc" {
		t.Errorf("names do not follow <prefix>-driver / <prefix>-driver-svc: %+v", n)
	}
	if MakeNames("spark-pi", "wf-2", 1).AppID == n.AppID {
		t.Error("two workflows share an app id")
	}
}

func TestRunLabelIsValid(t *testing.T) {
	for _, id := range []string{"wf", strings.Repeat("x/", 300), "spark pi ☃"} {
		l := RunLabel(id)
		if msgs := validation.IsValidLabelValue(l); len(msgs) > 0 || l == "" {
			t.Errorf("RunLabel(%q) = %q: %v", id, l, msgs)
		}
	}
	if RunLabel("a") == RunLabel("b") {
		t.Error("different workflows share a run label")
	}
}

// BasicDriverFeatureStepSuite / KubernetesConfSuite: app-name label sanitising.
func TestAppNameLabel(t *testing.T) {
	for in, want := range map[string]string{
		" Job+Spark-Pi 2021":           "job-spark-pi-2021",
		"spark-pi":                     "spark-pi",
		strings.Repeat("a", 100):       strings.Repeat("a", 63),
		strings.Repeat("x", 62) + "-y": strings.Repeat("x", 62),
	} {
		if got := AppNameLabel(in); got != want {
			t.Errorf("AppNameLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzMakeNames(f *testing.F) {
	f.Add("spark-pi", "wf", 1)
	f.Add(strings.Repeat("Ä.", 120), "", 0)
	f.Fuzz(func(t *testing.T, job, wf string, attempt int) {
		checkNames(t, MakeNames(job, wf, attempt))
		if msgs := validation.IsValidLabelValue(RunLabel(wf)); len(msgs) > 0 {
			t.Errorf("RunLabel(%q): %v", wf, msgs)
		}
		if msgs := validation.IsValidLabelValue(AppNameLabel(job)); len(msgs) > 0 {
			t.Errorf("app-name label for %q: %v", job, msgs)
		}
	})
}
