package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// kueueLabelPrefix marks Kueue's labels, which the operator keeps off the pods.
const kueueLabelPrefix = "kueue.x-k8s.io/"

// basic is BasicDriverFeatureStep, and for executors the part of BasicExecutorFeatureStep the
// template must name (the container): image, resources, labels, annotations, env, node
// selectors, pull secrets and scheduler travel as spark.{driver,executor}.* and
// spark.kubernetes.{driver,executor}.* keys, which a Spark driver applies to every executor.
var basic = feature{
	name:     "basic",
	validate: validateBasic,
	conf:     basicConf,
	driver:   basicDriverStep,
	executor: executorContainerStep,
}

// basicConf sets the keys of the operator's pod fields that BasicDriverFeatureStep and
// BasicExecutorFeatureStep read.
func basicConf(b *build) {
	s := b.spec
	// The manifest's labels go on the driver and the executors, under the roles' own labels
	// (the operator's submission.go; Kueue's labels stay on the SparkApplication).
	for _, k := range sortedKeys(s.Labels) {
		if !strings.HasPrefix(k, kueueLabelPrefix) {
			b.set("spark.kubernetes.driver.label."+k, s.Labels[k])
			b.set("spark.kubernetes.executor.label."+k, s.Labels[k])
		}
	}
	roleConf(b.conf, job.SparkRoleDriver, &s.Driver.SparkPodSpec, s.Driver.CoreRequest, s.Driver.JavaOptions)
	for k, v := range s.Driver.EnvVars {
		b.conf["spark.kubernetes.driverEnv."+k] = v
	}
	roleConf(b.conf, job.SparkRoleExecutor, &s.Executor.SparkPodSpec, s.Executor.CoreRequest, s.Executor.JavaOptions)
	if s.Executor.Instances != nil {
		b.conf["spark.executor.instances"] = strconv.Itoa(int(*s.Executor.Instances))
	}
	if s.Executor.DeleteOnTermination != nil {
		b.conf["spark.kubernetes.executor.deleteOnTermination"] = strconv.FormatBool(*s.Executor.DeleteOnTermination)
	}
	for k, v := range s.Executor.EnvVars {
		b.conf["spark.executorEnv."+k] = v
	}
}

// roleConf sets the spark.<role>.* and spark.kubernetes.<role>.* keys of one SparkPodSpec.
func roleConf(c map[string]string, role string, p *job.SparkPodSpec, coreRequest, javaOptions string) {
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	k8s := "spark.kubernetes." + role + "."
	set(k8s+"container.image", p.Image)
	if p.Cores != nil {
		c["spark."+role+".cores"] = strconv.Itoa(int(*p.Cores))
	}
	set(k8s+"request.cores", coreRequest)
	set(k8s+"limit.cores", p.CoreLimit)
	set("spark."+role+".memory", p.Memory)
	set("spark."+role+".memoryOverhead", p.MemoryOverhead)
	// The operator passes javaOptions as --conf spark.<role>.extraJavaOptions after the
	// sparkConf entries: the later --conf of a key replaces the earlier.
	if javaOptions != "" {
		c["spark."+role+".extraJavaOptions"] = javaOptions
	}
	for k, v := range p.Labels {
		c[k8s+"label."+k] = v
	}
	for k, v := range p.Annotations {
		c[k8s+"annotation."+k] = v
	}
	for k, v := range p.NodeSelector {
		c["spark.kubernetes."+role+".node.selector."+k] = v
	}
	set(k8s+"scheduler.name", p.SchedulerName)
}

// sparkLabels are the labels Spark puts on the driver (KubernetesDriverConf.labels):
// custom labels from spark.kubernetes.<role>.label.*, with {{APP_ID}} substituted, under
// Spark's preset labels.
func (b *build) sparkLabels(role string) map[string]string {
	out := map[string]string{}
	for k, v := range prefixed(b.conf, "spark.kubernetes."+role+".label.") {
		out[k] = substituteIDs(v, b.names.AppID, "") // the driver has no executor id
	}
	out[job.LabelSparkAppID] = b.names.AppID
	out[job.LabelSparkRole] = role
	if n := job.AppNameLabel(b.spec.Name); n != "" {
		out[job.LabelSparkAppName] = n
	}
	if v := b.spec.SparkVersion; v != "" {
		out[job.LabelSparkVersion] = v
	}
	return out
}

func (b *build) annotations(role, execID string) map[string]string {
	out := map[string]string{}
	for k, v := range prefixed(b.conf, "spark.kubernetes."+role+".annotation.") {
		out[k] = substituteIDs(v, b.names.AppID, execID)
	}
	return out
}

func (b *build) image(role string) string {
	return confOr(b.conf, "spark.kubernetes."+role+".container.image", b.conf["spark.kubernetes.container.image"])
}

func (b *build) nodeSelector(role string) map[string]string {
	out := prefixed(b.conf, "spark.kubernetes.node.selector.")
	for k, v := range prefixed(b.conf, "spark.kubernetes."+role+".node.selector.") {
		out[k] = v
	}
	return out
}

func (b *build) imagePullSecrets() []corev1.LocalObjectReference {
	var out []corev1.LocalObjectReference
	for _, s := range splitList(b.conf["spark.kubernetes.container.image.pullSecrets"]) {
		out = append(out, corev1.LocalObjectReference{Name: s})
	}
	return out
}

func (b *build) port(key string, def int) int32 {
	if n, err := strconv.Atoi(b.conf[key]); err == nil {
		return int32(n)
	}
	return int32(def)
}

func (b *build) driverPorts() (rpc, blockManager, ui int32) {
	rpc = b.port("spark.driver.port", DefaultDriverPort)
	blockManager = b.port("spark.driver.blockManager.port", int(b.port("spark.blockManager.port", DefaultBlockManagerPort)))
	ui = b.port("spark.ui.port", DefaultUIPort)
	return
}

func (b *build) sparkUser() string {
	if u := b.spec.ProxyUser; u != "" {
		return u
	}
	return "spark"
}

// cpuRequest is spark.kubernetes.<role>.request.cores, else spark.<role>.cores, else 1.
func (b *build) cpu(role string) (request resource.Quantity, limit *resource.Quantity, err error) {
	req := confOr(b.conf, "spark.kubernetes."+role+".request.cores", confOr(b.conf, "spark."+role+".cores", "1"))
	if request, err = job.ParseCores(req); err != nil {
		return request, nil, fmt.Errorf("%s CPU request: %w", role, err)
	}
	if l, ok := b.conf["spark.kubernetes."+role+".limit.cores"]; ok {
		q, err := job.ParseCores(l)
		if err != nil {
			return request, nil, fmt.Errorf("%s CPU limit: %w", role, err)
		}
		limit = &q
	}
	return canonical(request), canonicalPtr(limit), nil
}

// canonical re-parses a quantity from its canonical string so a rendered object compares equal
// to what the API server returns.
func canonical(q resource.Quantity) resource.Quantity { return resource.MustParse(q.String()) }

func canonicalPtr(q *resource.Quantity) *resource.Quantity {
	if q == nil {
		return nil
	}
	c := canonical(*q)
	return &c
}

func memoryQuantity(miB int64) resource.Quantity {
	return resource.MustParse(strconv.FormatInt(miB, 10) + "Mi")
}

// basicDriverStep is BasicDriverFeatureStep: name, container, ports, env, resources, labels,
// annotations, restart policy, node selectors, pull secrets, scheduler name.
func basicDriverStep(b *build, pod *corev1.Pod) error {
	c := sparkContainer(pod, job.DriverContainerName)
	c.Image = b.image("driver")
	c.ImagePullPolicy = corev1.PullPolicy(confOr(b.conf, "spark.kubernetes.container.image.pullPolicy", string(corev1.PullIfNotPresent)))
	rpc, bm, ui := b.driverPorts()
	c.Ports = append(c.Ports,
		corev1.ContainerPort{Name: "driver-rpc-port", ContainerPort: rpc, Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: "blockmanager", ContainerPort: bm, Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: "spark-ui", ContainerPort: ui, Protocol: corev1.ProtocolTCP},
	)
	setEnv(c, corev1.EnvVar{Name: "SPARK_USER", Value: b.sparkUser()})
	setEnv(c, corev1.EnvVar{Name: "SPARK_APPLICATION_ID", Value: b.names.AppID})
	driverEnv := prefixed(b.conf, "spark.kubernetes.driverEnv.")
	for _, k := range sortedKeys(driverEnv) {
		setEnv(c, corev1.EnvVar{Name: k, Value: driverEnv[k]})
	}
	setEnv(c, corev1.EnvVar{Name: "SPARK_DRIVER_BIND_ADDRESS", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}})

	req, limit, err := b.cpu("driver")
	if err != nil {
		return err
	}
	mem := memoryQuantity(b.driver.TotalMiB)
	// BasicDriverFeatureStep adds its values to the template's resources (addToRequests,
	// addToLimits): its CPU and memory win, anything else the template asks (ephemeral
	// storage, a CPU limit when no limit.cores is set) stays.
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	c.Resources.Requests[corev1.ResourceCPU] = req
	c.Resources.Requests[corev1.ResourceMemory] = mem
	c.Resources.Limits[corev1.ResourceMemory] = mem
	if limit != nil {
		c.Resources.Limits[corev1.ResourceCPU] = *limit
	}
	// sparkpod_defaulter.go addMemoryLimit: spec.driver.memoryLimit replaces the limit.
	if q, ok := memoryLimit(b.spec.Driver.MemoryLimit); ok {
		if q.Cmp(mem) < 0 {
			return fmt.Errorf("spec.driver.memoryLimit %s is below the driver's memory request %s (heap + overhead)", b.spec.Driver.MemoryLimit, mem.String())
		}
		c.Resources.Limits[corev1.ResourceMemory] = q
	}
	// KubernetesUtils.buildResourcesQuantities: spark.driver.resource.<name>.amount with its
	// .vendor becomes the limit <vendor>/<name> (executors get theirs from Spark itself).
	for name, amount := range driverResources(b.conf) {
		c.Resources.Limits[corev1.ResourceName(name)] = amount
	}

	pod.Name = b.names.DriverPod
	mergeMap(&pod.Labels, b.sparkLabels(job.SparkRoleDriver))
	mergeMap(&pod.Annotations, b.annotations("driver", ""))
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	mergeMap(&pod.Spec.NodeSelector, b.nodeSelector("driver"))
	pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, b.imagePullSecrets()...)
	if s := b.conf["spark.kubernetes.scheduler.name"]; s != "" {
		pod.Spec.SchedulerName = s
	}
	if s := b.conf["spark.kubernetes.driver.scheduler.name"]; s != "" {
		pod.Spec.SchedulerName = s
	}

	b.set("spark.kubernetes.driver.pod.name", b.names.DriverPod)
	b.set("spark.app.id", b.names.AppID)
	b.set("spark.kubernetes.submitInDriver", "true")
	b.set(confMemoryOverheadFactor, formatFactor(b.driverFactor))
	return nil
}

func (b *build) nonJVM() bool { return b.spec.Type == job.TypePython || b.spec.Type == job.TypeR }

// executorContainerStep names Spark's container in the executor template, the one
// spark.kubernetes.executor.podTemplateContainerName selects, so the steps after it and the
// driver's steps agree on it. Everything else BasicExecutorFeatureStep sets is left to the
// driver, which reads it from spark.properties.
func executorContainerStep(b *build, pod *corev1.Pod) error {
	sparkContainer(pod, job.ExecutorContainerName)
	// The driver sizes executors from the conf: a request it cannot parse fails here, at submit.
	_, _, err := b.cpu("executor")
	return err
}

// Keys BasicDriverFeatureStep derives per attempt; a user value would be ignored, so it is refused.
var basicOwnedConf = map[string]string{
	"spark.app.id":                     "is set by Kindling from the workflow and attempt",
	"spark.kubernetes.driver.pod.name": "is set by Kindling: driver pod names are derived from the workflow and attempt",
	"spark.kubernetes.submitInDriver":  "is set by Kindling",
}

func validateBasic(s *job.JobSpec) field.ErrorList {
	var errs field.ErrorList
	add := func(p *field.Path, format string, args ...any) { errs = append(errs, job.Invalid(p, format, args...)) }
	for _, name := range sortedKeys(prefixedResources(s.SparkConf)) {
		amountKey := "spark.driver.resource." + name + ".amount"
		if _, err := resource.ParseQuantity(s.SparkConf[amountKey]); err != nil {
			add(job.SparkConfPath.Key(amountKey), "%q is not a quantity", s.SparkConf[amountKey])
		}
		if s.SparkConf["spark.driver.resource."+name+".vendor"] == "" {
			// KubernetesUtils.buildResourcesQuantities' message, word for word.
			add(job.SparkConfPath.Key(amountKey), "Resource: %s was requested, but vendor was not specified.", name)
		}
	}
	if s.MemoryOverheadFactor != "" {
		if _, err := job.ParseFactor(s.MemoryOverheadFactor); err != nil {
			add(job.SpecPath.Child("memoryOverheadFactor"), "%v", err)
		}
	}
	c := s.SparkConf
	errs = append(errs, refuseOwned(c, basicOwnedConf)...)
	for _, k := range []string{"spark.driver.memory", "spark.executor.memory", "spark.driver.memoryOverhead", "spark.executor.memoryOverhead", "spark.executor.pyspark.memory",
		"spark.driver.minMemoryOverhead", "spark.executor.minMemoryOverhead"} {
		if v, ok := c[k]; ok {
			if _, err := job.ParseMiB(v); err != nil {
				add(job.SparkConfPath.Key(k), "%v", err)
			}
		}
	}
	for _, k := range []string{confMemoryOverheadFactor, "spark.driver.memoryOverheadFactor", "spark.executor.memoryOverheadFactor"} {
		if v, ok := c[k]; ok {
			if _, err := job.ParseFactor(v); err != nil {
				add(job.SparkConfPath.Key(k), "%v", err)
			}
		}
	}
	for _, k := range []string{"spark.driver.cores", "spark.executor.cores"} {
		if v, ok := c[k]; ok {
			if n, err := strconv.Atoi(v); err != nil || n < 1 {
				add(job.SparkConfPath.Key(k), "%q must be a whole number of cores, 1 or more; ask for a fraction with spark.kubernetes.%s.request.cores", v, strings.Split(k, ".")[1])
			}
		}
	}
	for _, k := range []string{"spark.kubernetes.driver.request.cores", "spark.kubernetes.driver.limit.cores", "spark.kubernetes.executor.request.cores", "spark.kubernetes.executor.limit.cores"} {
		if v, ok := c[k]; ok {
			if _, err := job.ParseCores(v); err != nil {
				add(job.SparkConfPath.Key(k), "%v", err)
			}
		}
	}
	if v := s.Driver.MemoryLimit; v != "" {
		if _, ok := memoryLimit(v); !ok {
			add(job.RolePath("driver").Child("memoryLimit"), "%q is not a memory size (Spark's 2g or Kubernetes' 2Gi)", v)
		}
	}
	if s.Executor.MemoryLimit != "" {
		add(job.RolePath("executor").Child("memoryLimit"), "is not supported: a Spark driver sets each executor's memory limit to its request after the pod template, "+
			"and only the operator's webhook changes it afterwards; size executors with memory and memoryOverhead")
	}
	errs = append(errs, validateRole(s, job.SparkRoleDriver, &s.Driver.SparkPodSpec, s.Driver.CoreRequest, s.Driver.EnvVars)...)
	return append(errs, validateRole(s, job.SparkRoleExecutor, &s.Executor.SparkPodSpec, s.Executor.CoreRequest, s.Executor.EnvVars)...)
}

// refuseOwned names every key of owned the user set, with its rule, in key order.
func refuseOwned(c map[string]string, owned map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(owned) {
		if _, ok := c[k]; ok {
			errs = append(errs, job.Invalid(job.SparkConfPath.Key(k), "%s", owned[k]))
		}
	}
	return errs
}

// validateRole checks one role's cores, memory, labels and env names.
func validateRole(s *job.JobSpec, role string, p *job.SparkPodSpec, coreRequest string, envVars map[string]string) field.ErrorList {
	var errs field.ErrorList
	at := job.RolePath(role)
	add := func(p *field.Path, format string, args ...any) { errs = append(errs, job.Invalid(p, format, args...)) }
	if p.Cores != nil && *p.Cores < 1 {
		add(at.Child("cores"), "must be a whole number, 1 or more, got %d; ask for a fraction with coreRequest", *p.Cores)
	}
	if p.Memory != "" {
		if _, err := job.ParseMiB(p.Memory); err != nil {
			add(at.Child("memory"), "%v", err)
		}
	}
	if p.MemoryOverhead != "" {
		if _, err := job.ParseMiB(p.MemoryOverhead); err != nil {
			add(at.Child("memoryOverhead"), "%v", err)
		}
	}
	reqOK := true
	var req, limit float64
	switch {
	case coreRequest != "":
		q, err := job.ParseCores(coreRequest)
		if err != nil {
			add(at.Child("coreRequest"), "%v", err)
			reqOK = false
		}
		req = q.AsApproximateFloat64()
	case p.Cores != nil:
		req = float64(*p.Cores)
	default:
		n, err := strconv.Atoi(s.SparkConf["spark."+role+".cores"])
		req, reqOK = float64(n), err == nil
	}
	if p.CoreLimit != "" {
		q, err := job.ParseCores(p.CoreLimit)
		if err != nil {
			add(at.Child("coreLimit"), "%v", err)
		} else if limit = q.AsApproximateFloat64(); reqOK && limit < req {
			add(at.Child("coreLimit"), "%s is less than the CPU request (%s cores)", p.CoreLimit, strconv.FormatFloat(req, 'f', -1, 64))
		}
	}
	customLabels := prefixed(s.SparkConf, "spark.kubernetes."+role+".label.")
	for k, v := range s.Labels {
		if !strings.HasPrefix(k, kueueLabelPrefix) {
			customLabels[k] = v
		}
	}
	for k, v := range p.Labels {
		customLabels[k] = v
	}
	for _, k := range sortedKeys(customLabels) {
		f := at.Child("labels").Key(k)
		_, fromSpec := p.Labels[k]
		_, fromMetadata := s.Labels[k]
		switch {
		case fromSpec:
		case fromMetadata:
			f = job.MetadataPath.Child("labels").Key(k)
		default:
			f = job.SparkConfPath.Key("spark.kubernetes." + role + ".label." + k)
		}
		if slices.Contains(job.ReservedSparkLabels, k) || (role == job.SparkRoleExecutor && (k == job.LabelSparkExecID || k == "spark-exec-resourceprofile-id")) {
			add(f, "Custom %s labels cannot contain %s as it is reserved for Spark.", role, k)
			continue
		}
		if slices.Contains(job.KindlingLabels, k) {
			add(f, "label %s is reserved for Kindling", k)
			continue
		}
		for _, msg := range validation.IsQualifiedName(k) {
			add(f, "label key: %s", msg)
		}
		v := substituteIDs(customLabels[k], "spark-00000000000000000000000000000000", "1")
		for _, msg := range validation.IsValidLabelValue(v) {
			add(f, "label value: %s", msg)
		}
	}
	// Kindling's own annotations say what happens to a pod (kindling.dev/delete-after deletes
	// a finished job's objects): one copied from a kept pod must not reach a new job.
	annotations := prefixed(s.SparkConf, "spark.kubernetes."+role+".annotation.")
	for k, v := range p.Annotations {
		annotations[k] = v
	}
	for _, k := range sortedKeys(annotations) {
		if !strings.HasPrefix(k, "kindling.dev/") {
			continue
		}
		f := job.SparkConfPath.Key("spark.kubernetes." + role + ".annotation." + k)
		if _, fromSpec := p.Annotations[k]; fromSpec {
			f = at.Child("annotations").Key(k)
		}
		add(f, "annotation %s is reserved for Kindling", k)
	}
	for _, k := range sortedKeys(envVars) {
		for _, msg := range validation.IsEnvVarName(k) {
			add(at.Child("envVars").Key(k), "%s", msg)
		}
	}
	return errs
}

// prefixedResources are the names of the driver resources asked for with an amount.
func prefixedResources(c map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range prefixed(c, "spark.driver.resource.") {
		if name, ok := strings.CutSuffix(k, ".amount"); ok && !strings.Contains(name, ".") {
			out[name] = true
		}
	}
	return out
}

// driverResources are the driver container's accelerator limits, by Kubernetes resource name.
func driverResources(c map[string]string) map[string]resource.Quantity {
	out := map[string]resource.Quantity{}
	for name := range prefixedResources(c) {
		vendor := c["spark.driver.resource."+name+".vendor"]
		q, err := resource.ParseQuantity(c["spark.driver.resource."+name+".amount"])
		if vendor == "" || err != nil {
			continue // validation said so
		}
		out[vendor+"/"+name] = q
	}
	return out
}

// memoryLimit reads a memory limit as the operator does (ConvertJavaMemoryStringToK8sMemoryString):
// Spark's sizes (2g, 512m) or a Kubernetes quantity (2Gi).
func memoryLimit(v string) (resource.Quantity, bool) {
	if v == "" {
		return resource.Quantity{}, false
	}
	if mib, err := job.ParseMiB(v); err == nil {
		return memoryQuantity(mib), true
	}
	q, err := resource.ParseQuantity(v)
	return q, err == nil && q.Sign() > 0
}
