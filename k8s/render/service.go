package render

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kindling-dev/kindling/k8s/job"
)

// driverService is DriverServiceFeatureStep: the headless service executors reach the driver
// through, with spec.driver.serviceLabels and serviceAnnotations.
var driverService = feature{
	name: "service",
	conf: func(b *build) {
		for k, v := range b.spec.Driver.ServiceLabels {
			b.set("spark.kubernetes.driver.service.label."+k, v)
		}
		for k, v := range b.spec.Driver.ServiceAnnotations {
			b.set("spark.kubernetes.driver.service.annotation."+k, v)
		}
	},
	validate: validateService,
	driver:   driverServiceStep,
}

const driverSvcPostfix = "-driver-svc"

// ConnectServerClass is Spark Connect's server. A job whose mainClass it is serves Connect
// clients on its driver: the driver's Service also exposes the Connect port
// (spark.connect.grpc.binding.port, 15002 unless set), so notebooks reach it at
// sc://<service>.<namespace>.svc:15002.
const (
	ConnectServerClass = "org.apache.spark.sql.connect.service.SparkConnectServer"
	DefaultConnectPort = 15002
)

// ServiceName is the driver Service of an attempt whose driver pod is driverPod
// (<prefix>-driver): where executors, and Connect clients, reach the driver.
func ServiceName(driverPod, appID string) string {
	return serviceName(strings.TrimSuffix(driverPod, "-driver"), appID)
}

// serviceName is DriverServiceFeatureStep's name: <prefix>-driver-svc, or spark-<id>-driver-svc
// when that is longer than 63 characters.
func serviceName(prefix, appID string) string {
	if n := prefix + driverSvcPostfix; len(n) <= job.MaxNameLen {
		return n
	}
	return "spark-" + appID[len(appID)-16:] + driverSvcPostfix
}

// driverServiceStep is DriverServiceFeatureStep: the headless service executors reach the
// driver through, and the driver's host and ports in the conf.
func driverServiceStep(b *build, pod *corev1.Pod) error {
	name := b.names.Service
	rpc, _, ui := b.driverPorts()
	// DriverServiceFeatureStep reads spark.driver.blockManager.port alone (default 7079):
	// unlike the container's port, spark.blockManager.port does not move the service's.
	bm := b.port("spark.driver.blockManager.port", DefaultBlockManagerPort)
	svc := &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   b.spec.Namespace,
			Labels:      map[string]string{job.LabelSparkAppID: b.names.AppID},
			Annotations: prefixed(b.conf, "spark.kubernetes.driver.service.annotation."),
		},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			// DriverServiceFeatureStep: spark.kubernetes.driver.service.ipFamilyPolicy
			// (SingleStack) and .ipFamilies (IPv4), so a dual-stack cluster gets what was asked.
			IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicy(confOr(b.conf, "spark.kubernetes.driver.service.ipFamilyPolicy", "SingleStack"))),
			IPFamilies:     ipFamilies(confOr(b.conf, "spark.kubernetes.driver.service.ipFamilies", "IPv4")),
			Selector:       b.sparkLabels(job.SparkRoleDriver),
			Ports: []corev1.ServicePort{
				{Name: "driver-rpc-port", Port: rpc, TargetPort: intstr.FromInt32(rpc), Protocol: corev1.ProtocolTCP},
				{Name: "blockmanager", Port: bm, TargetPort: intstr.FromInt32(bm), Protocol: corev1.ProtocolTCP},
				{Name: "spark-ui", Port: ui, TargetPort: intstr.FromInt32(ui), Protocol: corev1.ProtocolTCP},
			},
		},
	}
	if b.spec.MainClass == ConnectServerClass {
		cp := b.port("spark.connect.grpc.binding.port", DefaultConnectPort)
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: "spark-connect", Port: cp, TargetPort: intstr.FromInt32(cp), Protocol: corev1.ProtocolTCP})
		b.set("spark.connect.grpc.binding.port", itoa(cp))
	}
	mergeMap(&svc.Labels, prefixed(b.conf, "spark.kubernetes.driver.service.label."))
	if len(svc.Annotations) == 0 {
		svc.Annotations = nil
	}
	b.service = svc
	b.set("spark.driver.host", name+"."+b.spec.Namespace+".svc")
	b.set("spark.driver.port", itoa(rpc))
	b.set("spark.driver.blockManager.port", itoa(bm))
	return nil
}

func validateService(s *job.JobSpec) field.ErrorList {
	var errs field.ErrorList
	c := s.SparkConf
	if v, ok := c["spark.kubernetes.driver.service.ipFamilyPolicy"]; ok {
		switch corev1.IPFamilyPolicy(v) {
		case corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack:
		default:
			errs = append(errs, job.Invalid(job.SparkConfPath.Key("spark.kubernetes.driver.service.ipFamilyPolicy"), "%q must be SingleStack, PreferDualStack or RequireDualStack", v))
		}
	}
	if v, ok := c["spark.kubernetes.driver.service.ipFamilies"]; ok {
		for _, f := range splitList(v) {
			if f != string(corev1.IPv4Protocol) && f != string(corev1.IPv6Protocol) {
				errs = append(errs, job.Invalid(job.SparkConfPath.Key("spark.kubernetes.driver.service.ipFamilies"), "%q: each family must be IPv4 or IPv6", v))
				break
			}
		}
	}
	// DriverServiceFeatureStep's messages, word for word.
	if _, ok := c["spark.driver.bindAddress"]; ok {
		errs = append(errs, job.Invalid(job.SparkConfPath.Key("spark.driver.bindAddress"), "spark.driver.bindAddress is not supported in Kubernetes mode, as the driver's bind address is managed and set to the driver pod's IP address."))
	}
	for _, k := range []string{"spark.driver.port", "spark.driver.blockManager.port", "spark.blockManager.port", "spark.ui.port"} {
		if v, ok := c[k]; ok {
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
				errs = append(errs, job.Invalid(job.SparkConfPath.Key(k), "%q must be a port number between 1 and 65535", v))
			}
		}
	}
	return errs
}

func ipFamilies(list string) []corev1.IPFamily {
	var out []corev1.IPFamily
	for _, f := range splitList(list) {
		out = append(out, corev1.IPFamily(f))
	}
	return out
}
