package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/job/jobtest"
	"github.com/kindling-dev/kindling/workflows"
)

// Needs a scheduler or CRD the local stack does not run: Volcano, YuniKorn, the
// coscheduling plugin's PodGroup.
var needsExtraScheduler = map[string]string{
	"spark-pi-volcano.yaml":        "Volcano",
	"spark-pi-yunikorn.yaml":       "YuniKorn",
	"spark-pi-kube-scheduler.yaml": "the coscheduling plugin",
}

// The kubeflow operator's published examples run here unchanged, each to COMPLETED.
func TestOperatorExamplesRunUnchanged(t *testing.T) {
	for _, f := range jobtest.ExampleFiles(t) {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			if what, ok := needsExtraScheduler[base]; ok {
				t.Skipf("needs %s, which the local stack does not run (it renders: see TestRenderedObjectsPassTheAPIServer)", what)
			}
			t.Parallel()
			spec := jobtest.ReadExample(t, f)
			run := start(t, *spec, stack.taskQueue)
			res, err := result(t, run, 4*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if res.State != workflows.StateCompleted {
				t.Fatalf("state %s: %s", res.State, res.Reason)
			}
			if ttl := spec.TimeToLiveSeconds; ttl != nil && *ttl > 0 {
				// The finished driver stays for timeToLiveSeconds, then a durable timer removes it.
				driver := job.LabelWorkflow + "=" + job.WorkflowLabel(run.GetID()) + "," + job.LabelSparkRole + "=driver"
				if n := countPods(t, driver); n != 1 {
					t.Fatalf("%d driver pods right after the job ended; timeToLiveSeconds %d should keep it", n, *ttl)
				}
				ttlEnd := time.Duration(*ttl) * time.Second
				waitFor(t, ttlEnd+time.Minute, "the TTL cleanup", func() bool { return countPods(t, driver) == 0 })
			}
			assertNothingLeft(t, run.GetID(), res)
		})
	}
}
