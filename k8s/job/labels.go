package job

// Labels and annotations Kindling puts on every object it creates, beside Spark's own, and
// the names of Spark's containers.
const (
	LabelManagedBy     = "app.kubernetes.io/managed-by"
	ManagedByValue     = "kindling"
	LabelRun           = "kindling.dev/run"      // RunLabel: a hash of the run, as label values cannot hold every ID
	LabelWorkflow      = "kindling.dev/workflow" // WorkflowLabel: a hash of the workflow ID, shared by its runs
	LabelAttempt       = "kindling.dev/attempt"  // "1", "2", …
	AnnotationWorkflow = "kindling.dev/workflow-id"
	AnnotationRun      = "kindling.dev/run-id" // the workflow run that owns the object
	// AnnotationDeleteAfter (RFC 3339) is set on a finished job's kept objects: the worker
	// deletes them once it has passed. Set it to an earlier time to delete them sooner.
	AnnotationDeleteAfter = "kindling.dev/delete-after"

	LabelSparkAppID   = "spark-app-selector"
	LabelSparkRole    = "spark-role"
	LabelSparkAppName = "spark-app-name"
	LabelSparkVersion = "spark-version"
	LabelSparkExecID  = "spark-exec-id"
	SparkRoleDriver   = "driver"
	SparkRoleExecutor = "executor"

	DriverContainerName   = "spark-kubernetes-driver"
	ExecutorContainerName = "spark-kubernetes-executor"
)

// ReservedSparkLabels are Spark's preset labels; users may not set them (Spark refuses too).
var ReservedSparkLabels = []string{LabelSparkAppID, LabelSparkRole, LabelSparkAppName, LabelSparkVersion}

// KindlingLabels are the labels that tie an object to its workflow and attempt.
var KindlingLabels = []string{LabelManagedBy, LabelRun, LabelWorkflow, LabelAttempt}
