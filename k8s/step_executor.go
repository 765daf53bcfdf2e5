package k8s

import (
	corev1 "k8s.io/api/core/v1"
)

// executorContainerStep names Spark's container in the executor template, the one
// spark.kubernetes.executor.podTemplateContainerName selects, so the steps after it and the
// driver's steps agree on it. Everything Spark's BasicExecutorFeatureStep sets (image, pull
// policy, args, env, memory and CPU, labels, annotations, node selectors, pull secrets,
// scheduler name) is left to the driver, which reads it from spark.properties.
func executorContainerStep(b *build, pod *corev1.Pod) error {
	sparkContainer(pod, ExecutorContainerName)
	// The driver sizes executors from the conf: a request it cannot parse fails here, at submit.
	_, _, err := b.cpu("executor")
	return err
}

// executorConf records, as spark.kubernetes.executor.* keys, what every executor must carry
// beside Spark's own: Kindling's labels and workflow annotation, which a Spark driver applies
// through BasicExecutorFeatureStep.
func (b *build) executorConf() {
	for k, v := range b.kindlingLabels() {
		b.set("spark.kubernetes.executor.label."+k, v)
	}
	b.set("spark.kubernetes.executor.annotation."+AnnotationWorkflow, b.opts.WorkflowID)
}

func (b *build) kindlingLabels() map[string]string {
	return map[string]string{LabelManagedBy: ManagedByValue, LabelRun: RunLabel(b.opts.WorkflowID), LabelAttempt: itoa(b.opts.Attempt)}
}
