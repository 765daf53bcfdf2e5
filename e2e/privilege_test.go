package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

// A worker limited to some namespaces refuses a job elsewhere, and with --strict a job that
// holds a secret in plain text, before anything is created.
func TestWorkerLimitsRefuseBeforeAnythingIsCreated(t *testing.T) {
	t.Parallel()
	queue := "kindling-e2e-limited-" + uuid.NewString()[:8]
	newOwnWorker(t, queue, "KINDLING_ALLOWED_NAMESPACES="+ns, "KINDLING_STRICT=true")
	for _, tc := range []struct {
		name, want string
		mutate     func(*job.JobSpec)
	}{
		{"elsewhere", "metadata.namespace: namespace kube-system is not one this worker may run jobs in (--allow-namespace: " + ns + ")",
			func(s *job.JobSpec) { s.Namespace = "kube-system" }},
		{"secret", "spec.sparkConf[spark.hadoop.fs.s3a.secret.key]: looks like a secret, and its value would be stored in plain text",
			func(s *job.JobSpec) {
				s.SparkConf = map[string]string{"spark.hadoop.fs.s3a.secret.key": "wJalrXUtnFEMI"}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := testJob(t, nil, tc.mutate)
			id := "e2e-limited-" + tc.name + "-" + uuid.NewString()[:8]
			run, err := stack.temporal.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: queue}, workflows.WorkflowName, spec, workflows.Carry{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = result(t, run, time.Minute)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("the job was not refused with %q: %v", tc.want, err)
			}
			if n := countPods(t, job.LabelWorkflow+"="+job.WorkflowLabel(id)); n != 0 {
				t.Errorf("%d pods exist for a refused job", n)
			}
		})
	}
}
