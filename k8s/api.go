package k8s

// This file is the contract between the renderer (this package) and its callers
// (activities/, workflows/, starter/). Keep the exported names below stable.

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Labels and annotations Kindling puts on every object it creates, beside Spark's own.
const (
	LabelManagedBy      = "app.kubernetes.io/managed-by"
	ManagedByValue      = "kindling"
	LabelRun            = "kindling.dev/run"     // hash of the workflow ID: label values cannot hold every ID
	LabelAttempt        = "kindling.dev/attempt" // "1", "2", …
	AnnotationWorkflow  = "kindling.dev/workflow-id"
	LabelSparkAppID     = "spark-app-selector"
	LabelSparkRole      = "spark-role"
	LabelSparkAppName   = "spark-app-name"
	LabelSparkVersion   = "spark-version"
	LabelSparkExecID    = "spark-exec-id"
	SparkRoleDriver     = "driver"
	SparkRoleExecutor   = "executor"
	DriverContainerName = "spark-kubernetes-driver"
)

// RenderOptions are the inputs to rendering beside the spec. The same spec and options
// always render byte-identical objects.
type RenderOptions struct {
	WorkflowID string
	Attempt    int // 1-based
	// Memory overheads in MiB that replace the computed ones when > 0; the workflow raises
	// them after an OOMKilled attempt.
	DriverMemoryOverheadMiB   int64
	ExecutorMemoryOverheadMiB int64
}

// Rendered is everything one attempt of a job creates, in creation order:
// ConfigMap, Extra (PodGroup, on-demand PVCs, …), DriverPod, Service.
type Rendered struct {
	Names     Names
	AppID     string // spark-<32 hex>
	Namespace string

	ConfigMap *corev1.ConfigMap
	DriverPod *corev1.Pod
	Service   *corev1.Service
	Extra     []*unstructured.Unstructured

	// Resolved sizes, recorded in the job's result.
	DriverMemoryMiB           int64 // request = limit: heap + overhead
	DriverMemoryOverheadMiB   int64
	ExecutorMemoryMiB         int64
	ExecutorMemoryOverheadMiB int64
}

// Names of one attempt's objects; all valid DNS-1123, at most 63 characters.
type Names struct {
	AppID          string
	ResourcePrefix string
	DriverPod      string
	Service        string
	ConfigMap      string
	ExecutorPrefix string
}
