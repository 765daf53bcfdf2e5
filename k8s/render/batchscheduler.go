package render

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// batchScheduler is what the operator's batch schedulers (volcano, yunikorn, the
// kube-scheduler coscheduling plugin) do: scheduler name, queue and group membership for every
// pod, the priority class, and the PodGroup itself.
var batchScheduler = feature{
	name:     "batch-scheduler",
	validate: validateBatchScheduler,
	conf:     func(b *build) { b.batchSchedulerConf() },
	driver:   batchSchedulerStep,
	executor: batchSchedulerStep,
	objects: func(b *build) ([]*unstructured.Unstructured, error) {
		pg, err := b.podGroup()
		if err != nil || pg == nil {
			return nil, err
		}
		return []*unstructured.Unstructured{pg}, nil
	},
}

func validateBatchScheduler(s *job.JobSpec) field.ErrorList {
	var errs field.ErrorList
	switch s.BatchScheduler {
	case "", SchedulerKube, SchedulerVolcano, SchedulerYuniKorn:
	default:
		errs = append(errs, job.Invalid(job.SpecPath.Child("batchScheduler"), "must be kube-scheduler, volcano or yunikorn; got %q", s.BatchScheduler))
	}
	if o := s.BatchSchedulerOptions; o != nil && o.Queue != "" && s.BatchScheduler == "" {
		errs = append(errs, job.Invalid(job.SpecPath.Child("batchSchedulerOptions", "queue"), "needs spec.batchScheduler (volcano or yunikorn)"))
	}
	return errs
}

// Batch schedulers spec.batchScheduler accepts.
const (
	SchedulerKube     = "kube-scheduler"
	SchedulerVolcano  = "volcano"
	SchedulerYuniKorn = "yunikorn"

	volcanoGroupAnnotation = "scheduling.k8s.io/group-name"
	coschedulingGroupLabel = "scheduling.x-k8s.io/pod-group"
	yunikornQueueLabel     = "queue"
)

func (b *build) podGroupName() string { return b.names.ResourcePrefix + "-pg" }

// batchSchedulerConf does what the operator's batch schedulers do to the spec before
// submission: scheduler name, queue label and PodGroup membership for the driver and the
// executors, as spark.kubernetes.<role>.* keys, so a Spark driver puts them on every executor.
func (b *build) batchSchedulerConf() {
	o := b.spec.BatchSchedulerOptions
	for _, role := range []string{job.SparkRoleDriver, job.SparkRoleExecutor} {
		k := "spark.kubernetes." + role + "."
		switch b.spec.BatchScheduler {
		case SchedulerVolcano:
			b.set(k+"scheduler.name", SchedulerVolcano)
			b.set(k+"annotation."+volcanoGroupAnnotation, b.podGroupName())
		case SchedulerYuniKorn:
			b.set(k+"scheduler.name", SchedulerYuniKorn)
			if o != nil && o.Queue != "" {
				b.set(k+"label."+yunikornQueueLabel, o.Queue)
			}
		case SchedulerKube:
			b.set(k+"label."+coschedulingGroupLabel, b.podGroupName())
		}
	}
}

// batchSchedulerStep gives the pod the batch scheduler's priority class, which Spark's conf
// cannot express.
func batchSchedulerStep(b *build, pod *corev1.Pod) error {
	switch b.spec.BatchScheduler {
	case SchedulerVolcano, SchedulerYuniKorn, SchedulerKube:
	default:
		return nil
	}
	if o := b.spec.BatchSchedulerOptions; o != nil && o.PriorityClassName != "" && pod.Spec.PriorityClassName == "" {
		pod.Spec.PriorityClassName = o.PriorityClassName
	}
	return nil
}

// podGroup is the PodGroup the volcano and kube-scheduler (coscheduling) schedulers need. As in
// the operator's cluster mode, one member (the driver) makes the group, and its minimum
// resources are the driver's plus the first executors'.
func (b *build) podGroup() (*unstructured.Unstructured, error) {
	var apiVersion string
	switch b.spec.BatchScheduler {
	case SchedulerVolcano:
		apiVersion = "scheduling.volcano.sh/v1beta1"
	case SchedulerKube:
		apiVersion = "scheduling.x-k8s.io/v1alpha1"
	default:
		return nil, nil
	}
	minRes := map[string]any{}
	if o := b.spec.BatchSchedulerOptions; o != nil && len(o.Resources) > 0 {
		for k, q := range o.Resources {
			c := canonical(q)
			minRes[string(k)] = c.String()
		}
	} else {
		dCPU, _, err := b.cpu("driver")
		if err != nil {
			return nil, err
		}
		eCPU, _, err := b.cpu("executor")
		if err != nil {
			return nil, err
		}
		n := int64(1)
		if v, err := fmt.Sscan(b.conf["spark.executor.instances"], &n); v != 1 || err != nil {
			n = 1
		}
		cpu := resource.NewMilliQuantity(dCPU.MilliValue()+n*eCPU.MilliValue(), resource.DecimalSI)
		cpuQ, memQ := canonical(*cpu), memoryQuantity(b.driver.TotalMiB+n*b.exec.TotalMiB)
		minRes["cpu"] = cpuQ.String()
		minRes["memory"] = memQ.String()
	}
	spec := map[string]any{"minMember": int64(1), "minResources": minRes}
	if o := b.spec.BatchSchedulerOptions; o != nil && b.spec.BatchScheduler == SchedulerVolcano {
		if o.Queue != "" {
			spec["queue"] = o.Queue
		}
		if o.PriorityClassName != "" {
			spec["priorityClassName"] = o.PriorityClassName
		}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       "PodGroup",
		"metadata":   map[string]any{"name": b.podGroupName(), "namespace": b.spec.Namespace},
		"spec":       spec,
	}}
	return u, nil
}
