package render

import "github.com/kindling-dev/kindling/k8s/job"

// executorConf records, as spark.kubernetes.executor.* keys, what every executor must carry
// beside Spark's own: Kindling's labels and workflow annotation, which a Spark driver applies
// through BasicExecutorFeatureStep.
func (b *build) executorConf() {
	for k, v := range b.kindlingLabels() {
		b.set("spark.kubernetes.executor.label."+k, v)
	}
	b.set("spark.kubernetes.executor.annotation."+job.AnnotationWorkflow, b.opts.WorkflowID)
}

// kindlingLabels tie an object to its workflow run and attempt.
func (b *build) kindlingLabels() map[string]string {
	return map[string]string{job.LabelManagedBy: job.ManagedByValue, job.LabelRun: job.RunLabel(b.opts.WorkflowID), job.LabelAttempt: itoa(b.opts.Attempt)}
}
