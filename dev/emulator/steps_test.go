package emulator

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes/fake"
)

var quantityEqual = cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })

// driverOn is a driver labelled with a Spark version.
func driverOn(version string) *corev1.Pod {
	d := newDriver("ns", "spark-pi-driver").build()
	d.Labels[LabelSparkVersion] = version
	return d
}

// Everything MountSecretsFeatureStep, EnvSecretsFeatureStep, BasicExecutorFeatureStep's
// spark.executorEnv and MountVolumesFeatureStep take from spark.properties, on Spark 4.0.
func TestPodTakesSecretsEnvAndVolumesFromConf(t *testing.T) {
	plan := planFor(t, driverOn("4.0.1"), testTemplate, map[string]string{
		"spark.kubernetes.executor.secrets.gcp":                                                          "/var/secrets/google",
		"spark.kubernetes.executor.secrets.db-creds":                                                     "/etc/db",
		"spark.kubernetes.executor.secretKeyRef.DB_PASSWORD":                                             "db-creds:password",
		"spark.executorEnv.FOO":                                                                          "bar",
		"spark.executorEnv.SPARK_EXECUTOR_DIRS":                                                          "/data/SPARK_APPLICATION_ID/SPARK_EXECUTOR_ID",
		"spark.executorEnv.1BAD":                                                                         "dropped: not a valid name",
		"spark.kubernetes.executor.volumes.hostPath.host.mount.path":                                     "/host",
		"spark.kubernetes.executor.volumes.hostPath.host.mount.readOnly":                                 "true",
		"spark.kubernetes.executor.volumes.hostPath.host.options.path":                                   "/mnt/data",
		"spark.kubernetes.executor.volumes.hostPath.host.options.type":                                   "Directory",
		"spark.kubernetes.executor.volumes.emptyDir.scratch.mount.path":                                  "/scratch",
		"spark.kubernetes.executor.volumes.emptyDir.scratch.mount.subPathExpr":                           "$(SPARK_EXECUTOR_POD_NAME)",
		"spark.kubernetes.executor.volumes.emptyDir.scratch.options.medium":                              "Memory",
		"spark.kubernetes.executor.volumes.emptyDir.scratch.options.sizeLimit":                           "1Gi",
		"spark.kubernetes.executor.volumes.nfs.shared.mount.path":                                        "/shared",
		"spark.kubernetes.executor.volumes.nfs.shared.mount.readOnly":                                    "true",
		"spark.kubernetes.executor.volumes.nfs.shared.options.server":                                    "nfs.example.com",
		"spark.kubernetes.executor.volumes.nfs.shared.options.path":                                      "/exports",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.cache.mount.path":                       "/cache",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.cache.mount.readOnly":                   "true",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.cache.mount.subPath":                    "part",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.cache.options.claimName":                "cache-SPARK_EXECUTOR_ID",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.mount.path":           "/local",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.claimName":    "OnDemand",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.storageClass": "standard",
		"spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.sizeLimit":    "10Gi",
	})
	pod := plan.Pod(3)
	c := pod.Spec.Containers[0]

	gi := resource.MustParse("1Gi")
	wantVolumes := []corev1.Volume{
		// MountSecretsFeatureStep, then MountVolumesFeatureStep (volumes sorted by type.name).
		{Name: "db-creds-volume", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "db-creds"}}},
		{Name: "gcp-volume", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "gcp"}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &gi}}},
		{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/mnt/data", Type: new(corev1.HostPathDirectory)}}},
		// NFS: Spark never sets the source's readOnly; only the mount is read-only.
		{Name: "shared", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.example.com", Path: "/exports"}}},
		// A claim is read-only when its mount is; SPARK_EXECUTOR_ID becomes the id.
		{Name: "cache", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "cache-3", ReadOnly: true}}},
		// OnDemand: <prefix>-exec-<id>-pvc-<index of the volume>.
		{Name: "spark-local-dir-1", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "spark-pi-exec-3-pvc-4"}}},
	}
	if diff := cmp.Diff(wantVolumes, pod.Spec.Volumes, quantityEqual); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	wantMounts := []corev1.VolumeMount{
		{Name: "db-creds-volume", MountPath: "/etc/db"},
		{Name: "gcp-volume", MountPath: "/var/secrets/google"},
		{Name: "scratch", MountPath: "/scratch", SubPathExpr: "$(SPARK_EXECUTOR_POD_NAME)"},
		{Name: "host", MountPath: "/host", ReadOnly: true},
		{Name: "shared", MountPath: "/shared", ReadOnly: true},
		{Name: "cache", MountPath: "/cache", ReadOnly: true, SubPath: "part"},
		{Name: "spark-local-dir-1", MountPath: "/local"},
	}
	if diff := cmp.Diff(wantMounts, c.VolumeMounts); diff != "" {
		t.Errorf("mounts of %s (-want +got):\n%s", c.Name, diff)
	}
	if others := pod.Spec.Containers[1]; len(others.VolumeMounts) != 0 || len(others.Env) != 0 {
		t.Errorf("sidecar %s got mounts %v, env %v; Spark's steps touch only Spark's container", others.Name, others.VolumeMounts, others.Env)
	}

	wantEnv := []corev1.EnvVar{
		{Name: "SPARK_DRIVER_URL", Value: "spark://CoarseGrainedScheduler@spark-pi-driver-svc.default.svc:7078"},
		{Name: "SPARK_EXECUTOR_ID", Value: "3"},
		{Name: "SPARK_APPLICATION_ID", Value: testAppID},
		{Name: "SPARK_RESOURCE_PROFILE_ID", Value: "0"},
		{Name: "FOO", Value: "bar"},
		{Name: "SPARK_EXECUTOR_DIRS", Value: "/data/" + testAppID + "/3"},
		{Name: "SPARK_EXECUTOR_POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
		{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db-creds"}, Key: "password"}}},
	}
	if diff := cmp.Diff(wantEnv, c.Env); diff != "" {
		t.Errorf("env of %s (-want +got):\n%s", c.Name, diff)
	}
}

// BasicExecutorFeatureStep lists Spark's variables, then spark.executorEnv.*, then the pod's
// name and IP from the downward API; EnvSecretsFeatureStep comes after. The kubelet keeps the
// last variable of a name.
func TestPodEnvOverridesAsSparkListsIt(t *testing.T) {
	plan := planFor(t, driverOn("3.5.3"), testTemplate, map[string]string{
		"spark.executorEnv.SPARK_DRIVER_URL":           "spark://elsewhere:7078", // over the template's
		"spark.executorEnv.SPARK_EXECUTOR_ID":          "custom",                 // after Spark's own
		"spark.executorEnv.SPARK_EXECUTOR_POD_NAME":    "ignored",                // before the downward API's
		"spark.executorEnv.TOKEN":                      "plain",
		"spark.kubernetes.executor.secretKeyRef.TOKEN": "tokens:api", // EnvSecretsFeatureStep runs later
	})
	env := map[string]corev1.EnvVar{}
	for _, e := range plan.Pod(1).Spec.Containers[0].Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("variable %s listed twice", e.Name)
		}
		env[e.Name] = e
	}
	if v := env["SPARK_DRIVER_URL"].Value; v != "spark://elsewhere:7078" {
		t.Errorf("SPARK_DRIVER_URL = %q, want spark.executorEnv's over the template's", v)
	}
	if v := env["SPARK_EXECUTOR_ID"].Value; v != "custom" {
		t.Errorf("SPARK_EXECUTOR_ID = %q, want spark.executorEnv's, listed after Spark's", v)
	}
	if e := env["SPARK_EXECUTOR_POD_NAME"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil {
		t.Errorf("SPARK_EXECUTOR_POD_NAME = %+v, want Spark's metadata.name field ref, listed after spark.executorEnv", e)
	}
	if e := env["TOKEN"]; e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "tokens" || e.ValueFrom.SecretKeyRef.Key != "api" {
		t.Errorf("TOKEN = %+v, want the secretKeyRef tokens:api", e)
	}
}

// Spark 3.5 has no hostPath type, no mount.subPathExpr and no volume size check.
func TestPodVolumesOnSpark35(t *testing.T) {
	plan := planFor(t, driverOn("3.5.3"), "", map[string]string{
		"spark.kubernetes.executor.volumes.hostPath.host.mount.path":           "/host",
		"spark.kubernetes.executor.volumes.hostPath.host.options.path":         "/mnt/data",
		"spark.kubernetes.executor.volumes.hostPath.host.options.type":         "Directory",
		"spark.kubernetes.executor.volumes.emptyDir.scratch.mount.path":        "/scratch",
		"spark.kubernetes.executor.volumes.emptyDir.scratch.mount.subPath":     "a",
		"spark.kubernetes.executor.volumes.emptyDir.scratch.mount.subPathExpr": "$(POD)",
		"spark.kubernetes.executor.volumes.emptyDir.scratch.options.sizeLimit": "100",
	})
	pod := plan.Pod(1)
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	if hp := vols["host"].HostPath; hp == nil || hp.Type == nil || *hp.Type != "" {
		t.Errorf("hostPath = %+v, want type \"\" (HostPathVolumeSource(path, \"\"))", hp)
	}
	if ed := vols["scratch"].EmptyDir; ed == nil || ed.SizeLimit == nil || ed.SizeLimit.Value() != 100 {
		t.Errorf("emptyDir = %+v, want sizeLimit 100", ed)
	}
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		if m.Name == "scratch" && (m.SubPath != "a" || m.SubPathExpr != "") {
			t.Errorf("mount %+v, want subPath a and no subPathExpr", m)
		}
	}
}

// What Spark's executor steps refuse stops the driver; the emulator fails it at start,
// naming the key.
func TestPlanExecutorsRejectsExecutorConfSparkStopsOn(t *testing.T) {
	const vol = "spark.kubernetes.executor.volumes."
	tests := []struct {
		name, version string
		props         map[string]string
		wantKey       string
	}{
		{"secretKeyRef without key", "4.0.0", map[string]string{"spark.kubernetes.executor.secretKeyRef.PW": "db-creds"}, "secretKeyRef.PW"},
		{"secretKeyRef with two colons", "4.0.0", map[string]string{"spark.kubernetes.executor.secretKeyRef.PW": "a:b:c"}, "secretKeyRef.PW"},
		{"volume without mount path", "4.0.0", map[string]string{vol + "emptyDir.x.options.medium": "Memory"}, "emptyDir.x.mount.path"},
		{"hostPath without path", "4.0.0", map[string]string{vol + "hostPath.x.mount.path": "/x"}, "hostPath.x.options.path"},
		{"nfs without server", "4.0.0", map[string]string{vol + "nfs.x.mount.path": "/x", vol + "nfs.x.options.path": "/e"}, "nfs.x.options.server"},
		{"claim without name", "4.0.0", map[string]string{vol + "persistentVolumeClaim.x.mount.path": "/x"}, "persistentVolumeClaim.x.options.claimName"},
		{"unsupported type", "4.0.0", map[string]string{vol + "configMap.x.mount.path": "/x"}, "configMap.x"},
		{"readOnly not a boolean", "4.0.0", map[string]string{vol + "emptyDir.x.mount.path": "/x", vol + "emptyDir.x.mount.readOnly": "yes"}, "emptyDir.x.mount.readOnly"},
		{"duplicate mount path", "3.5.3", map[string]string{vol + "emptyDir.a.mount.path": "/x", vol + "emptyDir.b.mount.path": "/x"}, "emptyDir.b.mount.path"},
		{"subPath and subPathExpr on 4.0", "4.0.0", map[string]string{vol + "emptyDir.x.mount.path": "/x", vol + "emptyDir.x.mount.subPath": "a", vol + "emptyDir.x.mount.subPathExpr": "b"}, "emptyDir.x.mount.subPathExpr"},
		{"size without unit on 4.0", "4.0.0", map[string]string{vol + "emptyDir.x.mount.path": "/x", vol + "emptyDir.x.options.sizeLimit": "100"}, "emptyDir.x.options.sizeLimit"},
		{"maxNumFailures not a number", "3.5.3", map[string]string{"spark.executor.maxNumFailures": "many"}, "spark.executor.maxNumFailures"},
		{"failuresValidityInterval bad unit", "4.0.0", map[string]string{"spark.executor.failuresValidityInterval": "1x"}, "spark.executor.failuresValidityInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			driver := driverOn(tt.version)
			client := fake.NewClientset(objects(confMaps(driver, "", tt.props))...)
			conf, err := ReadDriverConf(context.Background(), client, driver)
			if err != nil {
				t.Fatalf("ReadDriverConf: %v", err)
			}
			_, err = PlanExecutors(driver, conf)
			if err == nil {
				t.Fatalf("PlanExecutors(%v) succeeded, want an error", tt.props)
			}
			if !strings.Contains(err.Error(), tt.wantKey) {
				t.Errorf("error %q does not name %s", err, tt.wantKey)
			}
		})
	}
}

// Labels take {{APP_ID}} and {{EXECUTOR_ID}} from Spark 4.0 (SPARK-47730), annotations from
// 3.3 (SPARK-38383).
func TestIDPlaceholdersFollowTheSparkVersion(t *testing.T) {
	props := map[string]string{
		"spark.kubernetes.executor.label.exec":      "e-{{EXECUTOR_ID}}",
		"spark.kubernetes.executor.annotation.exec": "{{APP_ID}}/{{EXECUTOR_ID}}",
	}
	for version, wantLabel := range map[string]string{"4.0.0": "e-2", "3.5.3": "e-{{EXECUTOR_ID}}"} {
		pod := planFor(t, driverOn(version), "", props).Pod(2)
		if got := pod.Labels["exec"]; got != wantLabel {
			t.Errorf("Spark %s: label %q, want %q", version, got, wantLabel)
		}
		if got := pod.Annotations["exec"]; got != testAppID+"/2" {
			t.Errorf("Spark %s: annotation %q, want %q", version, got, testAppID+"/2")
		}
	}
}
