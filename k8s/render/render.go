package render

import (
	"fmt"
	"maps"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kindling-dev/kindling/k8s/job"
)

// Options are the inputs to rendering beside the spec. The same spec and options always
// render byte-identical objects.
type Options struct {
	WorkflowID string
	// RunID is the workflow run's own ID: with it, every run gets its own names and labels
	// (job.RunKey). Empty only for runs recorded before runs had their own identity.
	RunID   string
	Attempt int // 1-based
	// Memory overheads in MiB that replace the computed ones when > 0; the workflow raises
	// them after an OOMKilled attempt.
	DriverMemoryOverheadMiB   int64
	ExecutorMemoryOverheadMiB int64
	// App is set in controller mode: the SparkApplication object the attempt runs for.
	App *AppOwner `json:",omitempty"`
}

// AppOwner is the SparkApplication an attempt runs for in controller mode. Its driver pod
// takes the operator's name and labels and an ownerReference to the object, so tools written
// for the operator find it and deleting the object removes it even without Kindling.
type AppOwner struct {
	Name string
	UID  string
	// DriverPod is the operator's driver pod name: spec.driver.podName, else
	// spark.kubernetes.driver.pod.name, else <name>-driver. Every attempt reuses it, once
	// the last attempt's pod is gone.
	DriverPod string
}

// Labels the operator puts on the pods of a SparkApplication, which its users' tools select
// by. Kindling never sets sparkoperator.k8s.io/launched-by-spark-operator: a leftover
// operator webhook selects on it and would mutate Kindling's pods.
const (
	LabelOperatorAppName      = "sparkoperator.k8s.io/app-name"
	LabelOperatorSubmissionID = "sparkoperator.k8s.io/submission-id"
)

// Annotations on a controller-mode driver: its Service and the UI's port on it, which the
// SparkApplication's status.driverInfo reports.
const (
	AnnotationDriverService = "kindling.dev/driver-service"
	AnnotationUIPort        = "kindling.dev/ui-port"
)

// SubmissionID is the operator's submission ID of one attempt of a run: a UUID derived from
// the run and the attempt, so a retried render gives the same one.
func SubmissionID(runID string, attempt int) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("kindling:"+runID+"/"+itoa(attempt))).String()
}

// Rendered is everything one attempt of a job creates, in creation order:
// ConfigMap, Extra (PodGroup, on-demand PVCs, …), DriverPod, Service.
type Rendered struct {
	Names     job.Names
	AppID     string // spark-<32 hex>
	Namespace string
	// Selector selects every object of this attempt, and nothing of another run or attempt.
	Selector string
	// Warnings say what of the spec Spark would ignore, and so does Kindling.
	Warnings []string `json:",omitempty"`

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

// Attempt turns a job into the objects of one attempt. It defaults and validates a copy of
// the spec first, so an invalid spec returns a *job.ValidationError and no objects.
func Attempt(in *job.JobSpec, opts Options) (*Rendered, error) {
	spec := in.DeepCopy()
	job.Default(spec)
	if err := Validate(spec); err != nil {
		return nil, err
	}
	if opts.Attempt < 1 {
		opts.Attempt = 1
	}
	b, err := newBuild(spec, opts)
	if err != nil {
		return nil, err
	}
	names := b.names

	driver := startPod(spec.Driver.Template)
	for _, f := range features {
		if f.driver == nil {
			continue
		}
		if err := f.driver(b, driver); err != nil {
			return nil, fmt.Errorf("render driver pod %s: step %s: %w", names.DriverPod, f.name, err)
		}
	}
	// Executors size themselves from the conf the driver steps completed.
	if b.exec, err = executorMemory(b.conf, opts.ExecutorMemoryOverheadMiB, spec.SparkMajorVersion() >= 4); err != nil {
		return nil, fmt.Errorf("size executor memory: %w", err)
	}
	executor := startPod(spec.Executor.Template)
	for _, f := range features {
		if f.executor == nil {
			continue
		}
		if err := f.executor(b, executor); err != nil {
			return nil, fmt.Errorf("render executor pod template: step %s: %w", f.name, err)
		}
	}
	var extra []*unstructured.Unstructured
	for _, f := range features {
		if f.objects == nil {
			continue
		}
		objs, err := f.objects(b)
		if err != nil {
			return nil, fmt.Errorf("render %s objects: %w", f.name, err)
		}
		extra = append(extra, objs...)
	}
	extra = append(extra, b.extra...)

	template, err := marshalTemplate(executor)
	if err != nil {
		return nil, fmt.Errorf("render executor pod template: %w", err)
	}
	data := map[string]string{SparkPropertiesFile: renderProperties(b.conf), PodTemplateFile: string(template)}
	maps.Copy(data, b.files)
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: names.ConfigMap, Namespace: spec.Namespace},
		Data:       data,
		// KubernetesClientUtils.buildConfigMap: an attempt's conf never changes once made.
		Immutable: ptr.To(true),
	}
	driver.Namespace = spec.Namespace
	r := &Rendered{
		Names: names, AppID: names.AppID, Namespace: spec.Namespace, Selector: job.AttemptSelector(b.runKey(), opts.Attempt),
		Warnings:  Warnings(spec),
		ConfigMap: cm, DriverPod: driver, Service: b.service, Extra: extra,
		DriverMemoryMiB: b.driver.TotalMiB, DriverMemoryOverheadMiB: b.driver.OverheadMiB,
		ExecutorMemoryMiB: b.exec.TotalMiB, ExecutorMemoryOverheadMiB: b.exec.OverheadMiB,
	}
	// Every object carries the app's label and ours, so the attempt can be found and
	// removed by selector whatever a feature made.
	ours := mergeInto(map[string]string{job.LabelSparkAppID: names.AppID}, b.kindlingLabels())
	workflow := b.kindlingAnnotations()
	for _, m := range []*metav1.ObjectMeta{&cm.ObjectMeta, &driver.ObjectMeta, &r.Service.ObjectMeta} {
		m.Labels = mergeInto(m.Labels, ours)
		m.Annotations = mergeInto(m.Annotations, workflow)
	}
	for _, u := range r.Extra {
		u.SetLabels(mergeInto(u.GetLabels(), ours))
		u.SetAnnotations(mergeInto(u.GetAnnotations(), workflow))
	}
	if app := opts.App; app != nil {
		// The status's driverInfo names the UI's service and port, read from the driver.
		driver.Annotations = mergeInto(driver.Annotations, map[string]string{AnnotationDriverService: r.Service.Name})
		for _, p := range r.Service.Spec.Ports {
			if p.Name == "spark-ui" {
				driver.Annotations[AnnotationUIPort] = itoa(int(p.Port))
			}
		}
		// Only the driver is the object's: executors stay the driver's alone (a second owner
		// blocks their cascading deletion, kubeflow/spark-operator#2961).
		driver.OwnerReferences = append(driver.OwnerReferences, metav1.OwnerReference{
			APIVersion: "sparkoperator.k8s.io/v1beta2", Kind: "SparkApplication",
			Name: app.Name, UID: types.UID(app.UID), Controller: ptr.To(true),
		})
	}
	return r, nil
}

// newBuild is the state every feature shares, with every feature's conf applied and the
// driver sized: what the driver steps start from.
func newBuild(spec *job.JobSpec, opts Options) (*build, error) {
	b := &build{spec: spec, names: job.MakeNames(spec.Name, job.RunKey(opts.WorkflowID, opts.RunID), opts.Attempt), opts: opts,
		conf: baseConf(spec), files: map[string]string{}}
	if opts.App != nil {
		b.names.DriverPod = opts.App.DriverPod
	}
	// Spark honours a valid spark.kubernetes.executor.podNamePrefix (Validate refuses others).
	if p, ok := spec.SparkConf[confExecutorPrefix]; ok {
		b.names.ExecutorPrefix = p
	}
	for _, f := range features {
		if f.conf != nil {
			f.conf(b)
		}
	}
	b.executorConf()
	// A raised overhead (after an OOMKill) must reach Spark: executors are sized by the
	// driver from spark.properties, not by the template.
	if n := opts.ExecutorMemoryOverheadMiB; n > 0 {
		b.set("spark.executor.memoryOverhead", fmt.Sprintf("%dm", n))
	}
	if n := opts.DriverMemoryOverheadMiB; n > 0 {
		b.set("spark.driver.memoryOverhead", fmt.Sprintf("%dm", n))
	}
	var err error
	if b.driver, b.driverFactor, err = driverMemory(b.conf, b.nonJVM(), opts.DriverMemoryOverheadMiB, spec.SparkMajorVersion() >= 4); err != nil {
		return nil, fmt.Errorf("size driver memory: %w", err)
	}
	return b, nil
}

func mergeInto(dst, src map[string]string) map[string]string {
	mergeMap(&dst, src)
	return dst
}

// startPod is the pod the steps start from: a copy of the template, or an empty pod.
func startPod(t *corev1.PodTemplateSpec) *corev1.Pod {
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}}
	if t != nil {
		t = t.DeepCopy()
		p.ObjectMeta = t.ObjectMeta
		p.Spec = t.Spec
	}
	return p
}

// Warnings say what of a spec Spark ignores, and Kindling with it, for a person to read.
func Warnings(s *job.JobSpec) []string {
	var out []string
	if _, ok := s.SparkConf["spark.driver.host"]; ok {
		// SparkSubmit.prepareSubmitEnvironment: "Ignore invalid spark.driver.host in cluster modes."
		out = append(out, "spec.sparkConf[spark.driver.host] is ignored, as spark-submit ignores it in cluster mode: executors reach the driver through its service")
	}
	for _, e := range SecretSettings(s) {
		out = append(out, e.Field+": "+e.Detail)
	}
	return out
}
