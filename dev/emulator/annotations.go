package emulator

import (
	"fmt"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Annotations on a driver pod that steer how the emulated application ends.
const (
	AnnotationDuration = "emulator.kindling.dev/duration"
	AnnotationExitCode = "emulator.kindling.dev/exit-code"
	AnnotationOOMBelow = "emulator.kindling.dev/oom-below"
	// AnnotationExecutorFailures N: executors 1..N end Failed (exit 1) once running. Each is
	// replaced, as Spark's allocator replaces a failed executor, by one with the next id; the
	// driver ends as the other annotations say, unless the failures pass
	// spark.executor.maxNumFailures (Spark 3.5+), when it exits ExitMaxExecutorFailures.
	AnnotationExecutorFailures = "emulator.kindling.dev/executor-failures"
	AnnotationImagePullError   = "emulator.kindling.dev/image-pull-error"
	// AnnotationSidecarsKeepRunning "true": when the driver ends, its other containers keep
	// running, so the pod stays Running, as a pod with a log-shipping sidecar does.
	AnnotationSidecarsKeepRunning = "emulator.kindling.dev/sidecars-keep-running"
	// AnnotationExecutorOOMBelow: executors whose memory limit is below this quantity are
	// OOMKilled (137) once running and deleted, as Spark deletes a lost executor. Spark
	// replaces them, and the replacements are OOMKilled too: past spark.executor.maxNumFailures
	// (Spark 3.5+) the driver exits ExitMaxExecutorFailures at once; otherwise it fails with
	// exit code 1 at its end, as an app whose tasks cannot run.
	AnnotationExecutorOOMBelow = "emulator.kindling.dev/executor-oom-below"
	// AnnotationOutcomeFrom names a ConfigMap in the driver's namespace whose keys (duration,
	// exit-code, …, the annotations' names without the prefix) override the annotations when
	// the driver starts: a test changes it between runs, as a user fixes a job's input.
	AnnotationOutcomeFrom = "emulator.kindling.dev/outcome-from"
	// AnnotationTerminationMessage is what the driver writes to /dev/termination-log before it
	// ends (a pipeline task's output, a JSON object); like the kubelet, the emulator keeps at
	// most 4096 bytes of it.
	AnnotationTerminationMessage = "emulator.kindling.dev/termination-message"

	// AnnotationStartedAt is written by the emulator when it first sees the driver running, so
	// a restarted emulator ends the driver on the original schedule.
	AnnotationStartedAt = "emulator.kindling.dev/started-at"
)

// Namespaces carrying LabelNamespaceEmulator=NamespaceTestValue belong to a test that runs its
// own emulator; the stack's emulator skips them (see Config.IgnoreNamespaces).
const (
	LabelNamespaceEmulator = "kindling.dev/emulator"
	NamespaceTestValue     = "test"
)

const (
	defaultDuration = 5 * time.Second
	// A JVM that outgrows its container dies soon after start, long before the app would end.
	oomDelay = time.Second
)

// Outcome is what the driver's annotations ask for.
type Outcome struct {
	Duration            time.Duration
	ExitCode            int32
	OOMBelow            *resource.Quantity // nil: never OOMKilled
	ExecutorFailures    int
	ExecutorOOMBelow    *resource.Quantity // nil: executors are never OOMKilled
	ImagePullError      bool
	SidecarsKeepRunning bool
	TerminationMessage  string
}

// maxTerminationMessage is what the kubelet keeps of a container's termination message.
const maxTerminationMessage = 4096

// OutcomeError names the annotation whose value could not be used.
type OutcomeError struct {
	Annotation, Value, Want string
}

func (e *OutcomeError) Error() string {
	return fmt.Sprintf("annotation %s=%q: want %s", e.Annotation, e.Value, e.Want)
}

// ParseOutcome reads the steering annotations; a present but unusable value is an
// *OutcomeError, so a test with a typo fails loudly instead of passing by default.
func ParseOutcome(annotations map[string]string) (Outcome, error) {
	o := Outcome{Duration: defaultDuration}
	if v, ok := annotations[AnnotationDuration]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return o, &OutcomeError{AnnotationDuration, v, "a non-negative Go duration such as 5s"}
		}
		o.Duration = d
	}
	if v, ok := annotations[AnnotationExitCode]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 || n > 255 {
			return o, &OutcomeError{AnnotationExitCode, v, "a whole number from 0 to 255"}
		}
		o.ExitCode = int32(n)
	}
	if v, ok := annotations[AnnotationOOMBelow]; ok {
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Sign() <= 0 {
			return o, &OutcomeError{AnnotationOOMBelow, v, "a positive quantity such as 2Gi"}
		}
		o.OOMBelow = &q
	}
	if v, ok := annotations[AnnotationExecutorOOMBelow]; ok {
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Sign() <= 0 {
			return o, &OutcomeError{AnnotationExecutorOOMBelow, v, "a positive quantity such as 2Gi"}
		}
		o.ExecutorOOMBelow = &q
	}
	if v, ok := annotations[AnnotationExecutorFailures]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return o, &OutcomeError{AnnotationExecutorFailures, v, "a non-negative whole number"}
		}
		o.ExecutorFailures = n
	}
	if v, ok := annotations[AnnotationImagePullError]; ok {
		// Only the exact strings: kwok's stage selector matches "true" and nothing else.
		if v != "true" && v != "false" {
			return o, &OutcomeError{AnnotationImagePullError, v, `"true" or "false"`}
		}
		o.ImagePullError = v == "true"
	}
	if v, ok := annotations[AnnotationTerminationMessage]; ok {
		o.TerminationMessage = v
		if len(v) > maxTerminationMessage {
			o.TerminationMessage = v[:maxTerminationMessage]
		}
	}
	if v, ok := annotations[AnnotationSidecarsKeepRunning]; ok {
		if v != "true" && v != "false" {
			return o, &OutcomeError{AnnotationSidecarsKeepRunning, v, `"true" or "false"`}
		}
		o.SidecarsKeepRunning = v == "true"
	}
	return o, nil
}

// withOutcomeFrom lays the keys of a ConfigMap over the annotations, by annotation name.
func withOutcomeFrom(annotations, data map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range annotations {
		out[k] = v
	}
	for k, v := range data {
		out["emulator.kindling.dev/"+k] = v
	}
	return out
}
