package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/job/jobtest"
	"github.com/kindling-dev/kindling/k8s/pipeline"
	"github.com/kindling-dev/kindling/k8s/render"
)

// Every object the renderer makes for the operator's published examples and ours must pass
// the real API server's validation and admission (server-side dry run: nothing is stored).
func TestRenderedObjectsPassTheAPIServer(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if dir, ok := jobtest.ExamplesDir(); ok {
		operator, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		files = append(operator, files...)
	} else {
		t.Logf("the Spark operator's examples are not at %s: dry-running ours only", dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if p, err := pipeline.Read(f); err == nil {
				for _, task := range p.Tasks { // a pipeline: each task's job, its task templates filled as a run would
					dryRun(t, job.ReplaceTemplates(&task.Job, func(name string) (string, bool) {
						return "1", strings.HasPrefix(name, "tasks.")
					}))
				}
				return
			}
			spec := jobtest.ReadExample(t, f)
			dryRun(t, spec)
		})
	}
}

// dryRun renders one attempt of spec and has the API server check every object it can.
func dryRun(t *testing.T, spec *job.JobSpec) {
	t.Helper()
	ctx := context.Background()
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	job.Default(spec)
	r, err := render.Attempt(spec, render.Options{WorkflowID: "dry-run-" + spec.Name, Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	core := stack.kube.Kube.CoreV1()
	if _, err := core.ConfigMaps(r.Namespace).Create(ctx, r.ConfigMap, dry); err != nil {
		t.Errorf("ConfigMap %s: %v", r.ConfigMap.Name, err)
	}
	if _, err := core.Pods(r.Namespace).Create(ctx, r.DriverPod, dry); err != nil {
		t.Errorf("driver Pod %s: %v", r.DriverPod.Name, err)
	}
	if _, err := core.Services(r.Namespace).Create(ctx, r.Service, dry); err != nil {
		t.Errorf("Service %s: %v", r.Service.Name, err)
	}
	// The executors' template as a pod, with what Spark adds that the API server requires.
	exec := &corev1.Pod{}
	if err := yaml.UnmarshalStrict([]byte(r.ConfigMap.Data[render.PodTemplateFile]), exec); err != nil {
		t.Fatalf("executor template: %v", err)
	}
	exec.Name, exec.Namespace = r.DriverPod.Name+"-exec-1", r.Namespace
	for i := range exec.Spec.Containers {
		if exec.Spec.Containers[i].Image == "" {
			exec.Spec.Containers[i].Image = spec.Image
		}
	}
	if _, err := core.Pods(r.Namespace).Create(ctx, exec, dry); err != nil {
		t.Errorf("executor template as a Pod: %v", err)
	}
	for _, e := range r.Extra {
		gvk := e.GroupVersionKind()
		m, err := stack.kube.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Logf("%s %s: the local stack does not serve %s; not checked", gvk.Kind, e.GetName(), gvk)
			continue
		}
		if _, err := stack.kube.Dynamic.Resource(m.Resource).Namespace(e.GetNamespace()).Create(ctx, e, dry); err != nil {
			t.Errorf("%s %s: %v", gvk.Kind, e.GetName(), err)
		}
	}
}

// What Spark and the operator do beyond the published examples passes the API server too:
// ConfigMaps whose names hold dots, the node's network, the manifest's labels, a
// sparkConfigMap, a driver accelerator, the service's IP families, a driver memory limit,
// a driver template's own resources, volumes whose flags reach the executors through their
// template, a local keytab, and an on-demand claim of a Spark 3.5.1 job (ReadWriteOnce).
func TestFidelityCasesPassTheAPIServer(t *testing.T) {
	spec := jobtest.Minimal()
	spec.Labels = map[string]string{"team": "data"}
	spec.Driver.ConfigMaps = []job.NamePath{{Name: "app.conf.v1", Path: "/etc/app"}}
	spec.Driver.HostNetwork = ptr.To(true)
	spec.SparkConfigMap = "spark-defaults"
	spec.Driver.MemoryLimit = "2g"
	spec.Driver.Template = &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: job.DriverContainerName,
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("20Gi")}}}}}}
	spec.SparkConf = map[string]string{"spark.driver.resource.gpu.amount": "1", "spark.driver.resource.gpu.vendor": "nvidia.com",
		"spark.kubernetes.driver.service.ipFamilies":                                   "IPv4",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.path":        "/data",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.subPathExpr": "$(POD_NAME)",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.claimName": "OnDemand",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.sizeLimit": "10Gi",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.label.team":        "data",
		"spark.kerberos.keytab":    "local:///mnt/keytab/etl.keytab",
		"spark.kerberos.principal": "etl@EXAMPLE.COM",
	}
	socket := corev1.HostPathSocket
	spec.Volumes = []corev1.Volume{
		{Name: "shared", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.local", Path: "/data", ReadOnly: true}}},
		{Name: "sock", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/run/x.sock", Type: &socket}}},
	}
	spec.Executor.VolumeMounts = []corev1.VolumeMount{{Name: "shared", MountPath: "/shared"}, {Name: "sock", MountPath: "/run/x.sock"}}
	dryRun(t, spec)

	old := jobtest.Minimal()
	old.SparkVersion = "3.5.1"
	old.SparkConf = map[string]string{
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.path":           "/data",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.claimName":    "OnDemand",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.sizeLimit":    "10Gi",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.storageClass": "standard",
	}
	dryRun(t, old)
}
