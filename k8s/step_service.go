package k8s

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const driverSvcPostfix = "-driver-svc"

// serviceName is DriverServiceFeatureStep's name: <prefix>-driver-svc, or spark-<id>-driver-svc
// when that is longer than 63 characters.
func serviceName(prefix, appID string) string {
	if n := prefix + driverSvcPostfix; len(n) <= maxNameLen {
		return n
	}
	return "spark-" + appID[len(appID)-16:] + driverSvcPostfix
}

// driverServiceStep is DriverServiceFeatureStep: the headless service executors reach the
// driver through, and the driver's host and ports in the conf.
func driverServiceStep(b *build, pod *corev1.Pod) error {
	name := b.names.Service
	rpc, bm, ui := b.driverPorts()
	svc := &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   b.spec.Namespace,
			Labels:      map[string]string{LabelSparkAppID: b.names.AppID},
			Annotations: prefixed(b.conf, "spark.kubernetes.driver.service.annotation."),
		},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  b.sparkLabels(SparkRoleDriver),
			Ports: []corev1.ServicePort{
				{Name: "driver-rpc-port", Port: rpc, TargetPort: intstr.FromInt32(rpc), Protocol: corev1.ProtocolTCP},
				{Name: "blockmanager", Port: bm, TargetPort: intstr.FromInt32(bm), Protocol: corev1.ProtocolTCP},
				{Name: "spark-ui", Port: ui, TargetPort: intstr.FromInt32(ui), Protocol: corev1.ProtocolTCP},
			},
		},
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
