package emulator

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Spark's labels and names for executors.
const (
	LabelAppSelector         = "spark-app-selector"
	LabelRole                = "spark-role"
	LabelExecID              = "spark-exec-id"
	LabelResourceProfileID   = "spark-exec-resourceprofile-id"
	LabelAppName             = "spark-app-name"
	LabelSparkVersion        = "spark-version"
	RoleDriver               = "driver"
	RoleExecutor             = "executor"
	ExecutorContainerName    = "spark-kubernetes-executor"
	defaultResourceProfileID = "0"
)

// driverLabelsCopied are the driver's labels every executor carries too: Spark's, and those
// Kindling uses to find an attempt's pods.
var driverLabelsCopied = []string{
	LabelAppName, LabelSparkVersion,
	"app.kubernetes.io/managed-by", "kindling.dev/run", "kindling.dev/attempt",
}

// ExecutorPlan is how one application's executors look, decided once from the driver and its
// conf; Pod renders executor n from it.
type ExecutorPlan struct {
	Instances           int
	BatchSize           int
	NamePrefix          string
	AppID               string
	Resources           ExecutorResources
	DeleteOnTermination bool
	// FailureLimit is when the driver gives up on failing executors.
	FailureLimit ExecutorFailureLimit

	driver     *corev1.Pod
	props      Properties
	template   *corev1.Pod
	sparkMajor int
	steps      confSteps
}

// PlanExecutors applies Spark's ExecutorPodsAllocator and executor feature step settings. An
// error is a conf the driver would stop on.
func PlanExecutors(driver *corev1.Pod, conf *DriverConf) (*ExecutorPlan, error) {
	p := conf.Properties
	plan := &ExecutorPlan{driver: driver, props: p, template: conf.ExecutorTemplate}
	plan.sparkMajor, _ = sparkVersion(driver)
	var err error
	if plan.Instances, err = initialExecutors(p); err != nil {
		return nil, err
	}
	// Config.scala's default: 5 until Spark 3.x, 10 from 4.0 (the driver's spark-version label).
	def := "10"
	if plan.sparkMajor < 4 {
		def = "5"
	}
	batch := p.Get("spark.kubernetes.allocation.batch.size", def)
	if plan.BatchSize, err = strconv.Atoi(batch); err != nil || plan.BatchSize <= 0 {
		return nil, fmt.Errorf("read spark.kubernetes.allocation.batch.size=%q: want a positive whole number", batch)
	}
	plan.NamePrefix = p.Get("spark.kubernetes.executor.podNamePrefix", strings.TrimSuffix(driver.Name, "-driver"))
	plan.AppID = p.Get("spark.app.id", driver.Labels[LabelAppSelector])
	if plan.AppID == "" {
		return nil, fmt.Errorf("find app id of driver %s/%s: no spark.app.id and no %s label", driver.Namespace, driver.Name, LabelAppSelector)
	}
	if plan.Resources, err = ExecutorResourcesFrom(p); err != nil {
		return nil, err
	}
	del := p.Get("spark.kubernetes.executor.deleteOnTermination", "true")
	if plan.DeleteOnTermination, err = strconv.ParseBool(del); err != nil {
		return nil, fmt.Errorf("read spark.kubernetes.executor.deleteOnTermination=%q: %w", del, err)
	}
	if plan.FailureLimit, err = executorFailureLimit(driver, p); err != nil {
		return nil, err
	}
	if plan.steps, err = parseConfSteps(p, plan.sparkMajor); err != nil {
		return nil, err
	}
	return plan, nil
}

// initialExecutors is Spark's initial target: spark.executor.instances (default 2), or with
// dynamic allocation the largest of its initial, min and spark.executor.instances.
func initialExecutors(p Properties) (int, error) {
	get := func(key, def string) (int, error) {
		v := p.Get(key, def)
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("read %s=%q: want a non-negative whole number", key, v)
		}
		return n, nil
	}
	if on, _ := strconv.ParseBool(p.Get("spark.dynamicAllocation.enabled", "false")); on {
		n := 0
		for _, k := range []string{"spark.dynamicAllocation.minExecutors", "spark.dynamicAllocation.initialExecutors", "spark.executor.instances"} {
			v, err := get(k, "0")
			if err != nil {
				return 0, err
			}
			n = max(n, v)
		}
		return n, nil
	}
	return get("spark.executor.instances", "2")
}

// ExecutorName is Spark's executor pod name.
func (p *ExecutorPlan) ExecutorName(id int) string {
	return fmt.Sprintf("%s-exec-%d", p.NamePrefix, id)
}

// Pod renders executor id (1-based) from the template, as Spark's executor builder does.
func (p *ExecutorPlan) Pod(id int) *corev1.Pod {
	pod := p.template.DeepCopy()
	name := p.ExecutorName(id)
	idStr := strconv.Itoa(id)
	pod.TypeMeta = metav1.TypeMeta{}
	pod.ObjectMeta = metav1.ObjectMeta{
		Name:        name,
		Namespace:   p.driver.Namespace,
		Labels:      maps.Clone(p.template.Labels),
		Annotations: maps.Clone(p.template.Annotations),
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	for _, k := range driverLabelsCopied {
		if v, ok := p.driver.Labels[k]; ok {
			pod.Labels[k] = v
		}
	}
	labels := p.props.WithPrefix("spark.kubernetes.executor.label.")
	if p.sparkMajor >= 4 {
		// KubernetesExecutorConf.labels substitutes {{APP_ID}} and {{EXECUTOR_ID}} from Spark
		// 4.0 (SPARK-47730); before, a label keeps them as written.
		p.substituteIDs(labels, idStr)
	}
	maps.Copy(pod.Labels, labels)
	// Spark's own labels last: users may not override them.
	pod.Labels[LabelAppSelector] = p.AppID
	pod.Labels[LabelRole] = RoleExecutor
	pod.Labels[LabelExecID] = idStr
	pod.Labels[LabelResourceProfileID] = defaultResourceProfileID
	// BasicExecutorFeatureStep: Utils.substituteAppNExecIds on every annotation (since 3.3,
	// SPARK-38383).
	if ann := p.substituteIDs(p.props.WithPrefix("spark.kubernetes.executor.annotation."), idStr); len(ann) > 0 {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		maps.Copy(pod.Annotations, ann)
	}
	pod.OwnerReferences = []metav1.OwnerReference{{
		APIVersion:         "v1",
		Kind:               "Pod",
		Name:               p.driver.Name,
		UID:                p.driver.UID,
		Controller:         new(true),
		BlockOwnerDeletion: new(true),
	}}

	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	if len(name) <= 63 {
		pod.Spec.Hostname = name
	}
	selectors := p.props.WithPrefix("spark.kubernetes.node.selector.")
	maps.Copy(selectors, p.props.WithPrefix("spark.kubernetes.executor.node.selector."))
	if len(selectors) > 0 {
		if pod.Spec.NodeSelector == nil {
			pod.Spec.NodeSelector = map[string]string{}
		}
		maps.Copy(pod.Spec.NodeSelector, selectors)
	}

	// What Spark's executor steps take from the conf rather than the template.
	pod.Spec.ServiceAccountName = p.props.Get("spark.kubernetes.authenticate.executor.serviceAccountName", p.driver.Spec.ServiceAccountName)
	if sched := p.props.Get("spark.kubernetes.executor.scheduler.name", p.props.Get("spark.kubernetes.scheduler.name", "")); sched != "" {
		pod.Spec.SchedulerName = sched
	}
	for _, s := range strings.Split(p.props.Get("spark.kubernetes.container.image.pullSecrets", ""), ",") {
		if s = strings.TrimSpace(s); s != "" {
			pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
	}

	c, others := p.sparkContainer(pod)
	if c.Name == "" {
		c.Name = ExecutorContainerName
	}
	c.Image = p.image(c.Image)
	// Spark sets the pull policy from the conf, whatever the template says.
	c.ImagePullPolicy = corev1.PullPolicy(p.props.Get("spark.kubernetes.container.image.pullPolicy", string(corev1.PullIfNotPresent)))
	c.Args = []string{"executor"}
	want := p.Resources.ResourceRequirements()
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	maps.Copy(c.Resources.Requests, want.Requests)
	maps.Copy(c.Resources.Limits, want.Limits)
	setEnv(&c, corev1.EnvVar{Name: "SPARK_EXECUTOR_ID", Value: idStr})
	setEnv(&c, corev1.EnvVar{Name: "SPARK_APPLICATION_ID", Value: p.AppID})
	setEnv(&c, corev1.EnvVar{Name: "SPARK_RESOURCE_PROFILE_ID", Value: defaultResourceProfileID})
	// spark.executorEnv.*, SPARK_EXECUTOR_POD_NAME, and the secret, env-secret and volume steps.
	p.steps.apply(p, id, pod, &c)
	pod.Spec.Containers = append([]corev1.Container{c}, others...)
	pod.Status = corev1.PodStatus{}
	return pod
}

// sparkContainer takes Spark's container out of the template: the one named by
// spark.kubernetes.executor.podTemplateContainerName, else the first; an empty one if none.
func (p *ExecutorPlan) sparkContainer(pod *corev1.Pod) (corev1.Container, []corev1.Container) {
	cs := pod.Spec.Containers
	if len(cs) == 0 {
		return corev1.Container{}, nil
	}
	i := 0
	if name := p.props.Get("spark.kubernetes.executor.podTemplateContainerName", ""); name != "" {
		for j := range cs {
			if cs[j].Name == name {
				i = j
				break
			}
		}
	}
	others := append(append([]corev1.Container{}, cs[:i]...), cs[i+1:]...)
	return cs[i], others
}

func (p *ExecutorPlan) image(templateImage string) string {
	if v := p.props.Get("spark.kubernetes.executor.container.image", ""); v != "" {
		return v
	}
	if v := p.props.Get("spark.kubernetes.container.image", ""); v != "" {
		return v
	}
	if templateImage != "" {
		return templateImage
	}
	if c := driverContainer(p.driver); c != nil {
		return c.Image
	}
	return ""
}

// substituteIDs is Utils.substituteAppNExecIds on every value of m.
func (p *ExecutorPlan) substituteIDs(m map[string]string, execID string) map[string]string {
	r := strings.NewReplacer("{{APP_ID}}", p.AppID, "{{EXECUTOR_ID}}", execID)
	for k, v := range m {
		m[k] = r.Replace(v)
	}
	return m
}

func setEnv(c *corev1.Container, e corev1.EnvVar) {
	for i := range c.Env {
		if c.Env[i].Name == e.Name {
			c.Env[i] = e
			return
		}
	}
	c.Env = append(c.Env, e)
}
