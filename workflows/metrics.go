package workflows

import (
	"maps"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// Job events SparkJob emits through workflow.GetMetricsHandler, which records nothing while a
// history is replayed: the worker routes them to the kubeflow operator's metrics
// (spark_application_count, …_submit_count, …_success_count, …), so each is counted once.
const (
	MetricJobCreated          = "kindling_job_created"           // counter: a job's first run started
	MetricJobSubmitted        = "kindling_job_submitted"         // timer: a driver pod created; since the job started
	MetricJobSubmissionFailed = "kindling_job_submission_failed" // counter
	MetricJobEnded            = "kindling_job_ended"             // timer: the job's end; its last attempt's run time
	MetricOOMRemediation      = "kindling_job_oom_remediation"   // counter: memory raised after an OOMKill

	MetricTagNamespace   = "kindling_namespace"
	MetricTagState       = "kindling_state"   // COMPLETED, FAILED, CANCELLED
	MetricTagAttempt     = "kindling_attempt" // "1" for the first attempt
	MetricTagRole        = "kindling_role"    // driver or executor
	MetricTagLabelPrefix = "kindling_label."  // + a label of the SparkApplication
)

// metrics is the job's metrics handler, tagged with what the operator's labels come from.
func (j *jobRun) metrics(ctx workflow.Context) client.MetricsHandler {
	tags := map[string]string{MetricTagNamespace: j.spec.Namespace}
	//workflowcheck:ignore (sorted)
	for _, k := range slices.Sorted(maps.Keys(j.spec.Labels)) {
		tags[MetricTagLabelPrefix+k] = j.spec.Labels[k]
	}
	return workflow.GetMetricsHandler(ctx).WithTags(tags)
}

// lastRunTime is how long the job's last attempt ran (the operator's execution time: from its
// last submission to its end); 0 when unknown.
func (j *jobRun) lastRunTime(ctx workflow.Context) time.Duration {
	if n := len(j.result.Attempts); n > 0 && !j.result.Attempts[n-1].StartedAt.IsZero() {
		return workflow.Now(ctx).Sub(j.result.Attempts[n-1].StartedAt)
	}
	return 0
}
