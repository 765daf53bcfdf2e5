package render

import "github.com/kindling-dev/kindling/k8s/job"

// executorConf records, as spark.kubernetes.executor.* keys, what every executor must carry
// beside Spark's own: Kindling's labels and workflow annotation, which a Spark driver applies
// through BasicExecutorFeatureStep.
func (b *build) executorConf() {
	for k, v := range b.kindlingLabels() {
		b.set("spark.kubernetes.executor.label."+k, v)
	}
	for k, v := range b.kindlingAnnotations() {
		b.set("spark.kubernetes.executor.annotation."+k, v)
	}
}

func (b *build) runKey() string { return job.RunKey(b.opts.WorkflowID, b.opts.RunID) }

// kindlingLabels tie an object to its workflow, run and attempt.
// In controller mode they also carry the operator's app-name and submission-id labels.
func (b *build) kindlingLabels() map[string]string {
	out := map[string]string{
		job.LabelManagedBy: job.ManagedByValue,
		job.LabelWorkflow:  job.WorkflowLabel(b.opts.WorkflowID),
		job.LabelRun:       job.RunLabel(b.runKey()),
		job.LabelAttempt:   itoa(b.opts.Attempt),
	}
	if app := b.opts.App; app != nil {
		out[LabelOperatorAppName] = app.Name
		out[LabelOperatorSubmissionID] = SubmissionID(b.opts.RunID, b.opts.Attempt)
	}
	return out
}

// kindlingAnnotations name the workflow and run in full, for people and for the sweep.
func (b *build) kindlingAnnotations() map[string]string {
	out := map[string]string{job.AnnotationWorkflow: b.opts.WorkflowID}
	if b.opts.RunID != "" {
		out[job.AnnotationRun] = b.opts.RunID
	}
	return out
}
