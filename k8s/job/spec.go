package job

import (
	corev1 "k8s.io/api/core/v1"
)

// JobSpec is one Spark job: kubeflow's SparkApplication v1beta2 spec plus the metadata
// Kindling needs. Its JSON is the bare spec with "name" and "namespace" beside it, which
// is what the Temporal UI sends as workflow input.
type JobSpec struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Labels are the manifest's metadata.labels; the operator puts them on the driver and
	// the executors.
	Labels map[string]string `json:"labels,omitempty"`
	SparkApplicationSpec
}

// SparkApplicationSpec mirrors sparkoperator.k8s.io/v1beta2 SparkApplicationSpec, field for
// field and with the same JSON names, so manifests written for the operator decode unchanged.
type SparkApplicationSpec struct {
	// Suspend, in controller mode, stops the application and keeps it stopped while true
	// (Kueue and other queueing systems rely on it); `kindling submit` refuses it.
	Suspend               *bool                        `json:"suspend,omitempty"`
	Type                  ApplicationType              `json:"type,omitempty"`
	SparkVersion          string                       `json:"sparkVersion,omitempty"`
	Mode                  DeployMode                   `json:"mode,omitempty"`
	ProxyUser             string                       `json:"proxyUser,omitempty"`
	Image                 string                       `json:"image,omitempty"`
	ImagePullPolicy       string                       `json:"imagePullPolicy,omitempty"`
	ImagePullSecrets      []string                     `json:"imagePullSecrets,omitempty"`
	MainClass             string                       `json:"mainClass,omitempty"`
	MainApplicationFile   string                       `json:"mainApplicationFile,omitempty"`
	Arguments             []string                     `json:"arguments,omitempty"`
	SparkConf             map[string]string            `json:"sparkConf,omitempty"`
	HadoopConf            map[string]string            `json:"hadoopConf,omitempty"`
	SparkConfigMap        string                       `json:"sparkConfigMap,omitempty"`
	HadoopConfigMap       string                       `json:"hadoopConfigMap,omitempty"`
	Volumes               []corev1.Volume              `json:"volumes,omitempty"`
	Driver                DriverSpec                   `json:"driver"`
	Executor              ExecutorSpec                 `json:"executor"`
	Deps                  Dependencies                 `json:"deps,omitempty"`
	RestartPolicy         RestartPolicy                `json:"restartPolicy,omitempty"`
	NodeSelector          map[string]string            `json:"nodeSelector,omitempty"`
	FailureRetries        *int32                       `json:"failureRetries,omitempty"`
	RetryInterval         *int64                       `json:"retryInterval,omitempty"`
	PythonVersion         string                       `json:"pythonVersion,omitempty"`
	MemoryOverheadFactor  string                       `json:"memoryOverheadFactor,omitempty"`
	Monitoring            *MonitoringSpec              `json:"monitoring,omitempty"`
	BatchScheduler        string                       `json:"batchScheduler,omitempty"`
	TimeToLiveSeconds     *int64                       `json:"timeToLiveSeconds,omitempty"`
	BatchSchedulerOptions *BatchSchedulerConfiguration `json:"batchSchedulerOptions,omitempty"`
	// Accepted so operator manifests decode; rejected by Validate until Kindling serves them.
	SparkUIOptions       *SparkUIConfiguration        `json:"sparkUIOptions,omitempty"`
	DriverIngressOptions []DriverIngressConfiguration `json:"driverIngressOptions,omitempty"`
	DynamicAllocation    *DynamicAllocation           `json:"dynamicAllocation,omitempty"`
	// DriverPodDisruptionBudget asks the operator (started with --enable-driver-pdb) for a
	// PodDisruptionBudget over the driver. Accepted so manifests keep it; Kindling makes none.
	DriverPodDisruptionBudget *bool `json:"driverPodDisruptionBudget,omitempty"`
}

// ApplicationType is the language of the main application.
type ApplicationType string

const (
	TypeJava   ApplicationType = "Java"
	TypeScala  ApplicationType = "Scala"
	TypePython ApplicationType = "Python"
	TypeR      ApplicationType = "R"
)

// DeployMode is where the driver runs. Kindling runs only cluster mode.
type DeployMode string

const (
	ModeCluster         DeployMode = "cluster"
	ModeClient          DeployMode = "client"
	ModeInClusterClient DeployMode = "in-cluster-client"
)

// RestartPolicyType says when a finished application runs again.
type RestartPolicyType string

const (
	RestartNever     RestartPolicyType = "Never"
	RestartOnFailure RestartPolicyType = "OnFailure"
	RestartAlways    RestartPolicyType = "Always"
)

// RestartPolicy is the operator's restartPolicy; intervals are seconds.
type RestartPolicy struct {
	Type                             RestartPolicyType `json:"type,omitempty"`
	OnSubmissionFailureRetries       *int32            `json:"onSubmissionFailureRetries,omitempty"`
	OnFailureRetries                 *int32            `json:"onFailureRetries,omitempty"`
	OnSubmissionFailureRetryInterval *int64            `json:"onSubmissionFailureRetryInterval,omitempty"`
	OnFailureRetryInterval           *int64            `json:"onFailureRetryInterval,omitempty"`
}

// BatchSchedulerConfiguration is the operator's batchSchedulerOptions.
type BatchSchedulerConfiguration struct {
	Queue             string              `json:"queue,omitempty"`
	PriorityClassName string              `json:"priorityClassName,omitempty"`
	Resources         corev1.ResourceList `json:"resources,omitempty"`
}

// SparkUIConfiguration is the operator's sparkUIOptions.
type SparkUIConfiguration struct {
	ServicePort        *int32              `json:"servicePort,omitempty"`
	ServicePortName    *string             `json:"servicePortName,omitempty"`
	ServiceType        *corev1.ServiceType `json:"serviceType,omitempty"`
	ServiceAnnotations map[string]string   `json:"serviceAnnotations,omitempty"`
	ServiceLabels      map[string]string   `json:"serviceLabels,omitempty"`
	IngressAnnotations map[string]string   `json:"ingressAnnotations,omitempty"`
	IngressTLS         []IngressTLS        `json:"ingressTLS,omitempty"`
}

// DriverIngressConfiguration is one entry of the operator's driverIngressOptions.
type DriverIngressConfiguration struct {
	ServicePort        *int32              `json:"servicePort"`
	ServicePortName    *string             `json:"servicePortName"`
	ServiceType        *corev1.ServiceType `json:"serviceType,omitempty"`
	ServiceAnnotations map[string]string   `json:"serviceAnnotations,omitempty"`
	ServiceLabels      map[string]string   `json:"serviceLabels,omitempty"`
	IngressURLFormat   string              `json:"ingressURLFormat,omitempty"`
	IngressAnnotations map[string]string   `json:"ingressAnnotations,omitempty"`
	IngressTLS         []IngressTLS        `json:"ingressTLS,omitempty"`
}

// IngressTLS mirrors networking/v1 IngressTLS.
type IngressTLS struct {
	Hosts      []string `json:"hosts,omitempty"`
	SecretName string   `json:"secretName,omitempty"`
}

// Dependencies are the files an application needs beside its main file.
type Dependencies struct {
	Jars            []string `json:"jars,omitempty"`
	Files           []string `json:"files,omitempty"`
	PyFiles         []string `json:"pyFiles,omitempty"`
	Packages        []string `json:"packages,omitempty"`
	ExcludePackages []string `json:"excludePackages,omitempty"`
	Repositories    []string `json:"repositories,omitempty"`
	Archives        []string `json:"archives,omitempty"`
}

// SparkPodSpec is what the driver and executors share.
type SparkPodSpec struct {
	Template       *corev1.PodTemplateSpec `json:"template,omitempty"`
	Cores          *int32                  `json:"cores,omitempty"`
	CoreLimit      string                  `json:"coreLimit,omitempty"`
	Memory         string                  `json:"memory,omitempty"`
	MemoryOverhead string                  `json:"memoryOverhead,omitempty"`
	// MemoryLimit overrides the memory limit of the pod (the operator's webhook sets it on the
	// driver; Kindling refuses it on executors, whose limit Spark sets after the template).
	MemoryLimit                   string                     `json:"memoryLimit,omitempty"`
	GPU                           *GPUSpec                   `json:"gpu,omitempty"`
	Image                         string                     `json:"image,omitempty"`
	ConfigMaps                    []NamePath                 `json:"configMaps,omitempty"`
	Secrets                       []SecretInfo               `json:"secrets,omitempty"`
	Env                           []corev1.EnvVar            `json:"env,omitempty"`
	EnvVars                       map[string]string          `json:"envVars,omitempty"`
	EnvFrom                       []corev1.EnvFromSource     `json:"envFrom,omitempty"`
	EnvSecretKeyRefs              map[string]NameKey         `json:"envSecretKeyRefs,omitempty"`
	Labels                        map[string]string          `json:"labels,omitempty"`
	Annotations                   map[string]string          `json:"annotations,omitempty"`
	VolumeMounts                  []corev1.VolumeMount       `json:"volumeMounts,omitempty"`
	Affinity                      *corev1.Affinity           `json:"affinity,omitempty"`
	Tolerations                   []corev1.Toleration        `json:"tolerations,omitempty"`
	PodSecurityContext            *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`
	SecurityContext               *corev1.SecurityContext    `json:"securityContext,omitempty"`
	SchedulerName                 string                     `json:"schedulerName,omitempty"`
	Sidecars                      []corev1.Container         `json:"sidecars,omitempty"`
	InitContainers                []corev1.Container         `json:"initContainers,omitempty"`
	HostNetwork                   *bool                      `json:"hostNetwork,omitempty"`
	NodeSelector                  map[string]string          `json:"nodeSelector,omitempty"`
	DNSConfig                     *corev1.PodDNSConfig       `json:"dnsConfig,omitempty"`
	TerminationGracePeriodSeconds *int64                     `json:"terminationGracePeriodSeconds,omitempty"`
	ServiceAccount                string                     `json:"serviceAccount,omitempty"`
	HostAliases                   []corev1.HostAlias         `json:"hostAliases,omitempty"`
	ShareProcessNamespace         *bool                      `json:"shareProcessNamespace,omitempty"`
	RuntimeClassName              *string                    `json:"runtimeClassName,omitempty"`
}

// DriverSpec is spec.driver.
type DriverSpec struct {
	SparkPodSpec       `json:",inline"`
	PodName            string            `json:"podName,omitempty"`
	CoreRequest        string            `json:"coreRequest,omitempty"`
	JavaOptions        string            `json:"javaOptions,omitempty"`
	Lifecycle          *corev1.Lifecycle `json:"lifecycle,omitempty"`
	KubernetesMaster   string            `json:"kubernetesMaster,omitempty"`
	ServiceAnnotations map[string]string `json:"serviceAnnotations,omitempty"`
	ServiceLabels      map[string]string `json:"serviceLabels,omitempty"`
	Ports              []Port            `json:"ports,omitempty"`
	PriorityClassName  string            `json:"priorityClassName,omitempty"`
}

// ExecutorSpec is spec.executor.
type ExecutorSpec struct {
	SparkPodSpec        `json:",inline"`
	Instances           *int32            `json:"instances,omitempty"`
	CoreRequest         string            `json:"coreRequest,omitempty"`
	JavaOptions         string            `json:"javaOptions,omitempty"`
	Lifecycle           *corev1.Lifecycle `json:"lifecycle,omitempty"`
	DeleteOnTermination *bool             `json:"deleteOnTermination,omitempty"`
	Ports               []Port            `json:"ports,omitempty"`
	PriorityClassName   string            `json:"priorityClassName,omitempty"`
}

// NamePath names an object and where to mount it.
type NamePath struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// SecretType says how a mounted secret is used.
type SecretType string

const (
	SecretTypeGCPServiceAccount     SecretType = "GCPServiceAccount"
	SecretTypeHadoopDelegationToken SecretType = "HadoopDelegationToken"
	SecretTypeGeneric               SecretType = "Generic"
)

// SecretInfo is a secret mounted at a path.
type SecretInfo struct {
	Name string     `json:"name"`
	Path string     `json:"path"`
	Type SecretType `json:"secretType,omitempty"`
}

// NameKey is a key of a named secret.
type NameKey struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Port is an extra container port.
type Port struct {
	Name          string `json:"name"`
	Protocol      string `json:"protocol"`
	ContainerPort int32  `json:"containerPort"`
}

// MonitoringSpec turns on Spark's Prometheus metrics.
type MonitoringSpec struct {
	ExposeDriverMetrics   bool            `json:"exposeDriverMetrics"`
	ExposeExecutorMetrics bool            `json:"exposeExecutorMetrics"`
	MetricsProperties     string          `json:"metricsProperties,omitempty"`
	MetricsPropertiesFile string          `json:"metricsPropertiesFile,omitempty"`
	Prometheus            *PrometheusSpec `json:"prometheus,omitempty"`
}

// PrometheusSpec configures the Prometheus JMX exporter java agent.
type PrometheusSpec struct {
	JmxExporterJar string `json:"jmxExporterJar"`
	Port           *int32 `json:"port,omitempty"`
	PortName       string `json:"portName,omitempty"`
	ConfigFile     string `json:"configFile,omitempty"`
	Configuration  string `json:"configuration,omitempty"`
}

// GPUSpec requests GPUs of one resource name.
type GPUSpec struct {
	Name     string `json:"name"`
	Quantity int64  `json:"quantity"`
}

// DynamicAllocation is Spark's dynamic executor allocation.
type DynamicAllocation struct {
	Enabled                bool   `json:"enabled,omitempty"`
	InitialExecutors       *int32 `json:"initialExecutors,omitempty"`
	MinExecutors           *int32 `json:"minExecutors,omitempty"`
	MaxExecutors           *int32 `json:"maxExecutors,omitempty"`
	ShuffleTrackingEnabled *bool  `json:"shuffleTrackingEnabled,omitempty"`
	ShuffleTrackingTimeout *int64 `json:"shuffleTrackingTimeout,omitempty"`
}
