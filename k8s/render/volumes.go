package render

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kindling-dev/kindling/k8s/job"
)

// volumes is MountVolumesFeatureStep for Spark's spark.kubernetes.<role>.volumes.* keys, which
// also carry the operator's spec.volumes that Spark can express (see splitVolumeMounts); the
// other spec.<role>.volumeMounts go on the pod as the operator's webhook puts them.
var volumes = feature{
	name:     "volumes",
	validate: validateVolumes,
	conf: func(b *build) {
		for _, role := range []string{job.SparkRoleDriver, job.SparkRoleExecutor} {
			vc, _ := splitVolumeMounts(b.spec.Volumes, b.pod(role).VolumeMounts, role, b.spec.SparkMajorVersion())
			maps.Copy(b.conf, vc)
		}
	},
	driver:   volumesStep(job.SparkRoleDriver),
	executor: specVolumeMountsStep(job.SparkRoleExecutor),
}

var confVolumeKey = regexp.MustCompile(`^spark\.kubernetes\.(driver|executor)\.volumes\.([^.]+)\.([^.]+)\.(mount\.path|mount\.readOnly|mount\.subPath|mount\.subPathExpr|options\..+|label\..+|annotation\..+)$`)

// confVolume is one spark.kubernetes.<role>.volumes.<type>.<name>.* volume.
type confVolume struct {
	key       string // the mount.path key, for error messages
	kind      string
	name      string
	mountPath string
	readOnly  bool
	subPath   string
	// Spark 4.0 (KubernetesVolumeUtils): mount.subPathExpr, and label.* / annotation.* for an
	// on-demand claim.
	subPathExpr string
	labels      map[string]string
	annotations map[string]string
	options     map[string]string
	problems    []string
}

var volumeKinds = []string{"hostPath", "emptyDir", "nfs", "persistentVolumeClaim"}

// parseConfVolumes reads Spark's volume keys for one role, sorted by volume name.
func parseConfVolumes(c map[string]string, role string) []confVolume {
	byName := map[string]*confVolume{}
	for _, k := range sortedKeys(c) {
		m := confVolumeKey.FindStringSubmatch(k)
		if m == nil || m[1] != role {
			continue
		}
		id := m[2] + "." + m[3]
		v := byName[id]
		if v == nil {
			v = &confVolume{kind: m[2], name: m[3], options: map[string]string{}, labels: map[string]string{}, annotations: map[string]string{},
				key: "spark.kubernetes." + role + ".volumes." + id + ".mount.path"}
			byName[id] = v
		}
		switch attr := m[4]; {
		case attr == "mount.path":
			v.mountPath = c[k]
		case attr == "mount.readOnly":
			v.readOnly = c[k] == "true"
		case attr == "mount.subPath":
			v.subPath = c[k]
		case attr == "mount.subPathExpr":
			v.subPathExpr = c[k]
		case strings.HasPrefix(attr, "label."):
			v.labels[strings.TrimPrefix(attr, "label.")] = c[k]
		case strings.HasPrefix(attr, "annotation."):
			v.annotations[strings.TrimPrefix(attr, "annotation.")] = c[k]
		case strings.HasPrefix(attr, "options."):
			v.options[strings.TrimPrefix(attr, "options.")] = c[k]
		}
	}
	var out []confVolume
	for _, id := range sortedKeys(byName) {
		v := byName[id]
		known := false
		for _, kind := range volumeKinds {
			known = known || v.kind == kind
		}
		if !known {
			v.problems = append(v.problems, fmt.Sprintf("volume type %q is not one of %s", v.kind, strings.Join(volumeKinds, ", ")))
		}
		if v.mountPath == "" {
			v.problems = append(v.problems, "is required for volume "+v.name)
		}
		if v.subPath != "" && v.subPathExpr != "" {
			// KubernetesVolumeUtils.verifyMutuallyExclusiveOptionKeys, word for word.
			v.problems = append(v.problems, fmt.Sprintf("These config options are mutually exclusive: %s.%s.mount.subPath, %s.%s.mount.subPathExpr", v.kind, v.name, v.kind, v.name))
		}
		// KubernetesVolumeUtils.verifySize: a bare number is bytes, and under 1KiB a mistake.
		if s := v.options["sizeLimit"]; s != "" && strings.Trim(s, "0123456789") == "" {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n < 1024 {
				v.problems = append(v.problems, fmt.Sprintf("Volume size `%s` is smaller than 1KiB. Missing units?", s))
			}
		}
		switch v.kind {
		case "hostPath":
			if v.options["path"] == "" {
				v.problems = append(v.problems, "hostPath volume "+v.name+" needs options.path")
			}
		case "nfs":
			if v.options["path"] == "" || v.options["server"] == "" {
				v.problems = append(v.problems, "nfs volume "+v.name+" needs options.path and options.server")
			}
		case "persistentVolumeClaim":
			if v.options["claimName"] == "" {
				v.problems = append(v.problems, "persistentVolumeClaim volume "+v.name+" needs options.claimName")
			}
			if v.options["claimName"] == "OnDemand" {
				if _, err := resource.ParseQuantity(v.options["sizeLimit"]); err != nil {
					v.problems = append(v.problems, "an OnDemand claim needs options.sizeLimit as a quantity, e.g. 10Gi")
				}
			}
		case "emptyDir":
			if s := v.options["sizeLimit"]; s != "" {
				if _, err := resource.ParseQuantity(s); err != nil {
					v.problems = append(v.problems, fmt.Sprintf("options.sizeLimit %q is not a quantity", s))
				}
			}
		}
		out = append(out, *v)
	}
	return out
}

// volumesStep is MountVolumesFeatureStep for Spark's volume keys (which include the
// operator's volumes Spark can express, see splitVolumeMounts), then the other
// spec.<role>.volumeMounts.
func volumesStep(role string) func(*build, *corev1.Pod) error {
	return func(b *build, pod *corev1.Pod) error {
		c := roleContainer(pod, role)
		for i, v := range parseConfVolumes(b.conf, role) {
			if len(v.problems) > 0 {
				return fmt.Errorf("%s: %s", v.key, strings.Join(v.problems, "; "))
			}
			src, err := b.confVolumeSource(v, pod.Name, i)
			if err != nil {
				return err
			}
			addVolume(pod, corev1.Volume{Name: v.name, VolumeSource: src})
			m := corev1.VolumeMount{Name: v.name, MountPath: v.mountPath, ReadOnly: v.readOnly, SubPath: v.subPath}
			if b.spec.SparkMajorVersion() >= 4 {
				m.SubPathExpr = v.subPathExpr
			}
			addMount(c, m)
		}
		return specVolumeMountsStep(role)(b, pod)
	}
}

// specVolumeMountsStep mounts the spec.<role>.volumeMounts that Spark's conf cannot express,
// with their spec.volumes, as the operator's webhook does.
func specVolumeMountsStep(role string) func(*build, *corev1.Pod) error {
	return func(b *build, pod *corev1.Pod) error {
		_, rest := splitVolumeMounts(b.spec.Volumes, b.pod(role).VolumeMounts, role, b.spec.SparkMajorVersion())
		if len(rest) == 0 {
			return nil
		}
		c := roleContainer(pod, role)
		declared := map[string]corev1.Volume{}
		for _, v := range b.spec.Volumes {
			declared[v.Name] = v
		}
		for _, m := range rest {
			if v, ok := declared[m.Name]; ok {
				addVolume(pod, v)
			}
			addMount(c, m)
		}
		return nil
	}
}

// sparkVolumeType is the <type> of spark.kubernetes.<role>.volumes.<type>.<name>.* that can
// stand for v, or "" when Spark's MountVolumesFeatureStep cannot build it (configMap,
// secret, projected, CSI, …).
func sparkVolumeType(v corev1.Volume) string {
	switch {
	case v.HostPath != nil:
		return "hostPath"
	case v.EmptyDir != nil:
		return "emptyDir"
	case v.NFS != nil:
		return "nfs"
	case v.PersistentVolumeClaim != nil:
		return "persistentVolumeClaim"
	}
	return ""
}

// splitVolumeMounts divides one role's volumeMounts into Spark volume keys, for the volumes
// Spark's conf can express, and the mounts left for the pod itself. The operator passes only
// spark-local-dir-* volumes this way and has its webhook add the rest; without a webhook, an
// executor gets a volume either from spark.properties or from the pod template, never both.
// A volume mounted twice, or mounted with a field Spark's keys lack (mountPropagation,
// subPathExpr, recursiveReadOnly), or a volume with a flag Spark's MountVolumesFeatureStep
// would drop (lostInConf), stays whole in the pod, and so in the executors' template.
func splitVolumeMounts(volumes []corev1.Volume, mounts []corev1.VolumeMount, role string, sparkMajor int) (conf map[string]string, rest []corev1.VolumeMount) {
	declared := map[string]corev1.Volume{}
	for _, v := range volumes {
		declared[v.Name] = v
	}
	uses := map[string]int{}
	for _, m := range mounts {
		uses[m.Name]++
	}
	conf = map[string]string{}
	for _, m := range mounts {
		v, ok := declared[m.Name]
		kind := sparkVolumeType(v)
		if !ok || kind == "" || uses[m.Name] > 1 || m.MountPropagation != nil || m.SubPathExpr != "" || m.RecursiveReadOnly != nil || strings.Contains(m.Name, ".") ||
			lostInConf(v, m, sparkMajor) {
			rest = append(rest, m)
			continue
		}
		k := "spark.kubernetes." + role + ".volumes." + kind + "." + m.Name + "."
		set := func(key, val string) {
			if val != "" {
				conf[k+key] = val
			}
		}
		set("mount.path", m.MountPath)
		set("mount.subPath", m.SubPath)
		if m.ReadOnly {
			set("mount.readOnly", "true")
		}
		switch kind {
		case "hostPath":
			set("options.path", v.HostPath.Path)
			if v.HostPath.Type != nil {
				set("options.type", string(*v.HostPath.Type))
			}
		case "emptyDir":
			set("options.medium", string(v.EmptyDir.Medium))
			if v.EmptyDir.SizeLimit != nil {
				set("options.sizeLimit", v.EmptyDir.SizeLimit.String())
			}
		case "nfs":
			set("options.server", v.NFS.Server)
			set("options.path", v.NFS.Path)
		case "persistentVolumeClaim":
			set("options.claimName", v.PersistentVolumeClaim.ClaimName)
		}
	}
	return conf, rest
}

// lostInConf tells whether Spark's MountVolumesFeatureStep, building v from its volume keys,
// would lose a flag of it (Spark 3.5.x and 4.0.x, MountVolumesFeatureStep.constructVolumes):
// an NFS source is always built with readOnly unset, a claim's readOnly is the mount's, and
// before 4.0 a hostPath has no type.
func lostInConf(v corev1.Volume, m corev1.VolumeMount, sparkMajor int) bool {
	switch {
	case v.NFS != nil:
		return v.NFS.ReadOnly
	case v.PersistentVolumeClaim != nil:
		return v.PersistentVolumeClaim.ReadOnly && !m.ReadOnly
	case v.HostPath != nil:
		return v.HostPath.Type != nil && *v.HostPath.Type != "" && sparkMajor < 4
	}
	return false
}

func (b *build) confVolumeSource(v confVolume, podName string, i int) (corev1.VolumeSource, error) {
	o := v.options
	switch v.kind {
	case "hostPath":
		src := &corev1.HostPathVolumeSource{Path: o["path"]}
		if t := o["type"]; t != "" && b.spec.SparkMajorVersion() >= 4 { // Spark 3.x has no hostPath type
			src.Type = ptr.To(corev1.HostPathType(t))
		}
		return corev1.VolumeSource{HostPath: src}, nil
	case "nfs":
		return corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: o["server"], Path: o["path"]}}, nil
	case "emptyDir":
		e := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(o["medium"])}
		if s := o["sizeLimit"]; s != "" {
			q := resource.MustParse(s)
			e.SizeLimit = &q
		}
		return corev1.VolumeSource{EmptyDir: e}, nil
	case "persistentVolumeClaim":
		claim := o["claimName"]
		if claim == "OnDemand" || claim == "SPARK_EXECUTOR_ID" {
			if podName == "" || !strings.HasSuffix(podName, "-driver") {
				// Executors get their claim from the driver at runtime.
				return corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}, nil
			}
			claim = podName + "-pvc-" + strconv.Itoa(i)
			if err := b.onDemandClaim(claim, v); err != nil {
				return corev1.VolumeSource{}, err
			}
		}
		// Spark makes the claim read-only when its mount is.
		return corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: v.readOnly}}, nil
	}
	return corev1.VolumeSource{}, fmt.Errorf("volume %s: unknown type %q", v.name, v.kind)
}

// onDemandAccessMode is MountVolumesFeatureStep's: ReadWriteOncePod since Spark 3.4.3 and
// 3.5.2 (which added spark.kubernetes.legacy.useReadWriteOnceAccessMode to go back),
// ReadWriteOnce before.
func onDemandAccessMode(s *job.JobSpec) corev1.PersistentVolumeAccessMode {
	legacy := s.SparkConf["spark.kubernetes.legacy.useReadWriteOnceAccessMode"] == "true"
	old := s.SparkVersionBefore(3, 4, 3) || (!s.SparkVersionBefore(3, 5, 0) && s.SparkVersionBefore(3, 5, 2))
	if legacy || old {
		return corev1.ReadWriteOnce
	}
	return corev1.ReadWriteOncePod
}

// onDemandClaim adds the PVC Spark creates for claimName=OnDemand.
func (b *build) onDemandClaim(name string, v confVolume) error {
	o := v.options
	size, err := resource.ParseQuantity(o["sizeLimit"])
	if err != nil {
		return fmt.Errorf("on-demand claim %s: sizeLimit: %w", name, err)
	}
	pvc := &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: b.spec.Namespace},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{onDemandAccessMode(b.spec)},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: canonical(size)}},
		},
	}
	if sc := o["storageClass"]; sc != "" {
		pvc.Spec.StorageClassName = &sc
	}
	if b.spec.SparkMajorVersion() >= 4 {
		if len(v.labels) > 0 {
			pvc.Labels = maps.Clone(v.labels)
		}
		if len(v.annotations) > 0 {
			pvc.Annotations = maps.Clone(v.annotations)
		}
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pvc)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: obj}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	b.extra = append(b.extra, u)
	return nil
}

func validateVolumes(s *job.JobSpec) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, v := range s.Volumes {
		f := job.SpecPath.Child("volumes").Index(i).Child("name")
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			errs = append(errs, job.Invalid(f, "must be a DNS-1123 label: %s", msg))
		}
		if seen[v.Name] {
			errs = append(errs, job.Invalid(f, "volume %q is declared twice", v.Name))
		}
		seen[v.Name] = true
	}
	for _, role := range []string{job.SparkRoleDriver, job.SparkRoleExecutor} {
		for _, p := range parseConfVolumes(s.SparkConf, role) {
			for _, msg := range p.problems {
				errs = append(errs, job.Invalid(job.SparkConfPath.Key(p.key), "%s", msg))
			}
		}
	}
	for _, role := range []string{job.SparkRoleDriver, job.SparkRoleExecutor} {
		errs = append(errs, validateMounts(s, role)...)
	}
	return errs
}

// validateMounts checks that every mount of one role names a declared volume and that no two
// mounts of the Spark container share a path.
func validateMounts(s *job.JobSpec, role string) field.ErrorList {
	var errs field.ErrorList
	add := func(f, format string, args ...any) {
		errs = append(errs, job.Invalid(field.NewPath(f), format, args...))
	}
	at, p := job.RolePath(role).String(), rolePod(s, role)
	declared := map[string]bool{}
	for _, v := range s.Volumes {
		declared[v.Name] = true
	}
	if p.Template != nil {
		for _, v := range p.Template.Spec.Volumes {
			declared[v.Name] = true
		}
	}
	type mount struct{ field, path string }
	var mounts []mount
	// Kindling's own mounts come first, so a clash is blamed on the user's field.
	if role == "driver" {
		mounts = append(mounts, mount{"(Kindling) " + SparkConfVolume, SparkConfDir}, mount{"(Kindling) " + PodTemplateVolume, PodTemplateDir})
	} else {
		// BasicExecutorFeatureStep mounts the executor's conf ConfigMap there.
		mounts = append(mounts, mount{"(Spark) spark-conf-volume-exec", SparkConfDir})
	}
	if s.HadoopConfigMap != "" {
		mounts = append(mounts, mount{"spec.hadoopConfigMap", hadoopConfDir})
	}
	for i, m := range p.VolumeMounts {
		f := fmt.Sprintf("%s.volumeMounts[%d]", at, i)
		if !declared[m.Name] {
			add(f+".name", "volume %q is not declared in spec.volumes", m.Name)
		}
		if m.MountPath == "" {
			add(f+".mountPath", "is required")
		}
		mounts = append(mounts, mount{f + ".mountPath", m.MountPath})
	}
	for i, sec := range p.Secrets {
		mounts = append(mounts, mount{fmt.Sprintf("%s.secrets[%d].path", at, i), sec.Path})
	}
	for i, cm := range p.ConfigMaps {
		mounts = append(mounts, mount{fmt.Sprintf("%s.configMaps[%d].path", at, i), cm.Path})
	}
	for _, k := range sortedKeys(prefixed(s.SparkConf, "spark.kubernetes."+role+".secrets.")) {
		mounts = append(mounts, mount{"spec.sparkConf[spark.kubernetes." + role + ".secrets." + k + "]", s.SparkConf["spark.kubernetes."+role+".secrets."+k]})
	}
	for _, v := range parseConfVolumes(s.SparkConf, role) {
		if v.mountPath != "" {
			mounts = append(mounts, mount{"spec.sparkConf[" + v.key + "]", v.mountPath})
		}
	}
	byPath := map[string]string{}
	for _, m := range mounts {
		if m.path == "" {
			continue
		}
		clean := path.Clean(m.path)
		if !path.IsAbs(clean) {
			add(m.field, "mount path %q must be absolute", m.path)
			continue
		}
		if first, ok := byPath[clean]; ok {
			add(m.field, "Found duplicated mountPath: '%s' (also used by %s)", clean, first)
			continue
		}
		byPath[clean] = m.field
	}
	return errs
}
