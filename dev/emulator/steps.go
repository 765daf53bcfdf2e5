package emulator

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The executor feature steps that take more than the basics from spark.properties, as Spark
// 3.5 and 4.0 run them (KubernetesExecutorBuilder: BasicExecutorFeatureStep,
// ExecutorKubernetesCredentialsFeatureStep, MountSecretsFeatureStep, EnvSecretsFeatureStep,
// MountVolumesFeatureStep, ... in that order). Sources are under
// resource-managers/kubernetes/core/src/main/scala/org/apache/spark/deploy/k8s/.
//
// Spark appends environment variables, volumes and mounts to what the template and the
// earlier steps put there; where two variables share a name the kubelet keeps the last one.
// The emulator writes the variable that takes effect in the place of the first one, as it
// already does for SPARK_EXECUTOR_ID in a template.

// Prefixes of the keys these steps read.
const (
	executorSecretsPrefix      = "spark.kubernetes.executor.secrets."
	executorSecretKeyRefPrefix = "spark.kubernetes.executor.secretKeyRef."
	executorEnvPrefix          = "spark.executorEnv."
	executorVolumesPrefix      = "spark.kubernetes.executor.volumes."
)

// confSteps is what the steps read from spark.properties, checked once per application.
type confSteps struct {
	secrets   []secretMount    // by secret name
	secretEnv []corev1.EnvVar  // by variable name
	env       []corev1.EnvVar  // spark.executorEnv.*, by variable name
	volumes   []executorVolume // by <type>.<name>
}

type secretMount struct{ secret, path string }

// executorVolume is one spark.kubernetes.executor.volumes.<type>.<name>.* volume; a claim
// name is a template until Pod renders it for an executor.
type executorVolume struct {
	mount  corev1.VolumeMount
	source corev1.VolumeSource
}

func parseConfSteps(p Properties, sparkMajor int) (confSteps, error) {
	var s confSteps
	// KubernetesExecutorConf.secretNamesToMountPaths: parsePrefixedKeyValuePairs, which drops
	// empty keys and values.
	secrets := p.WithPrefix(executorSecretsPrefix)
	for _, name := range sortedKeys(secrets) {
		if secrets[name] != "" {
			s.secrets = append(s.secrets, secretMount{name, secrets[name]})
		}
	}

	// EnvSecretsFeatureStep: keyRef.split(":"), then require(keyRefParts.size == 2,
	// "SecretKeyRef must be in the form name:key."); the IllegalArgumentException stops the
	// driver (ExecutorPodsSnapshotsStoreImpl: "Going to stop due to IllegalArgumentException",
	// System.exit(1)).
	refs := p.WithPrefix(executorSecretKeyRefPrefix)
	for _, env := range sortedKeys(refs) {
		if refs[env] == "" {
			continue
		}
		parts := javaSplit(refs[env], ":")
		if len(parts) != 2 {
			return s, fmt.Errorf("read %s%s=%q: SecretKeyRef must be in the form name:key", executorSecretKeyRefPrefix, env, refs[env])
		}
		s.secretEnv = append(s.secretEnv, corev1.EnvVar{Name: env, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: parts[0]}, Key: parts[1]},
		}})
	}

	// KubernetesExecutorConf.environment: sparkConf.getExecutorEnv (every spark.executorEnv.*
	// key, empty values too) filtered by checkExecutorEnvKey, which drops, with a warning, a
	// name not matching [-._a-zA-Z][-._a-zA-Z0-9]*.
	env := p.WithPrefix(executorEnvPrefix)
	for _, name := range sortedKeys(env) {
		if executorEnvKey.MatchString(name) {
			s.env = append(s.env, corev1.EnvVar{Name: name, Value: env[name]})
		}
	}

	var err error
	s.volumes, err = parseExecutorVolumes(p, sparkMajor)
	return s, err
}

var executorEnvKey = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

// javaSplit is Java's String.split for a plain separator: trailing empty strings are dropped.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parseExecutorVolumes is KubernetesVolumeUtils.parseVolumesWithPrefix for the executor
// prefix, with the checks MountVolumesFeatureStep.constructVolumes makes. Every
// <type>.<name> found in a key is a volume. Spark lists them in its conf map's order, which
// only shows in an on-demand claim's -pvc-<i> index; the emulator sorts them by <type>.<name>.
//
// Spark fails the driver (IllegalArgumentException) on an unsupported type, a mount.readOnly
// that is not a boolean, duplicate mount paths, and on 4.x on both mount.subPath and
// mount.subPathExpr or a size under 1KiB without units. A missing required key
// (NoSuchElementException) is only logged there, and the driver runs on without executors;
// the emulator fails the driver for those too, naming the key.
func parseExecutorVolumes(p Properties, sparkMajor int) ([]executorVolume, error) {
	props := p.WithPrefix(executorVolumesPrefix)
	type id struct{ kind, name string }
	seen := map[id]bool{}
	var ids []id
	for k := range props {
		if parts := strings.Split(k, "."); len(parts) >= 2 && !seen[id{parts[0], parts[1]}] {
			seen[id{parts[0], parts[1]}] = true
			ids = append(ids, id{parts[0], parts[1]})
		}
	}
	slices.SortFunc(ids, func(a, b id) int { return strings.Compare(a.kind+"."+a.name, b.kind+"."+b.name) })

	var out []executorVolume
	mountPaths := map[string]bool{}
	for _, v := range ids {
		key := func(attr string) string { return v.kind + "." + v.name + "." + attr }
		get := func(attr string) (string, bool) {
			val, ok := props[key(attr)]
			return val, ok
		}
		require := func(attr string) (string, error) {
			if val, ok := get(attr); ok && val != "" {
				return val, nil
			}
			return "", fmt.Errorf("read %s%s: required for %s volume %s", executorVolumesPrefix, key(attr), v.kind, v.name)
		}

		m := corev1.VolumeMount{Name: v.name}
		var err error
		if m.MountPath, err = require("mount.path"); err != nil {
			return nil, err
		}
		if ro, ok := get("mount.readOnly"); ok {
			// Scala's String.toBoolean: true or false in any case, else an exception.
			switch {
			case strings.EqualFold(ro, "true"):
				m.ReadOnly = true
			case strings.EqualFold(ro, "false"):
			default:
				return nil, fmt.Errorf("read %s%s=%q: want true or false", executorVolumesPrefix, key("mount.readOnly"), ro)
			}
		}
		m.SubPath, _ = get("mount.subPath")
		if sparkMajor >= 4 {
			// mount.subPathExpr is Spark 4.0's (SPARK-49731), exclusive of mount.subPath
			// (KubernetesVolumeUtils.verifyMutuallyExclusiveOptionKeys).
			expr, hasExpr := get("mount.subPathExpr")
			if _, hasSub := get("mount.subPath"); hasSub && hasExpr {
				return nil, fmt.Errorf("read %s%s: These config options are mutually exclusive: %s, %s",
					executorVolumesPrefix, key("mount.subPathExpr"), key("mount.subPath"), key("mount.subPathExpr"))
			}
			m.SubPathExpr = expr
		}
		// KubernetesVolumeUtils.verifySize (Spark 4.0, SPARK-47003): a bare number under 1024
		// bytes is a size without its unit.
		sizeLimit := func() (string, error) {
			size, ok := get("options.sizeLimit")
			if !ok || sparkMajor < 4 {
				return size, nil
			}
			if n, err := strconv.ParseInt(size, 10, 64); err == nil && n < 1024 {
				return "", fmt.Errorf("read %s%s: Volume size `%s` is smaller than 1KiB. Missing units?", executorVolumesPrefix, key("options.sizeLimit"), size)
			}
			return size, nil
		}

		var src corev1.VolumeSource
		switch v.kind {
		case "hostPath":
			path, err := require("options.path")
			if err != nil {
				return nil, err
			}
			// "" means no checks before mounting (Spark 3.5 always builds
			// HostPathVolumeSource(path, "")); options.type is Spark 4.0's (SPARK-49731).
			typ := ""
			if sparkMajor >= 4 {
				typ, _ = get("options.type")
			}
			src.HostPath = &corev1.HostPathVolumeSource{Path: path, Type: new(corev1.HostPathType(typ))}
		case "persistentVolumeClaim":
			claim, err := require("options.claimName")
			if err != nil {
				return nil, err
			}
			if _, err := sizeLimit(); err != nil {
				return nil, err
			}
			// PersistentVolumeClaimVolumeSource(claimName, spec.mountReadOnly).
			src.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: m.ReadOnly}
		case "emptyDir":
			size, err := sizeLimit()
			if err != nil {
				return nil, err
			}
			medium, _ := get("options.medium")
			src.EmptyDir = &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(medium)}
			if size != "" {
				q, err := resource.ParseQuantity(size)
				if err != nil {
					return nil, fmt.Errorf("read %s%s=%q: not a Kubernetes quantity", executorVolumesPrefix, key("options.sizeLimit"), size)
				}
				src.EmptyDir.SizeLimit = &q
			}
		case "nfs":
			path, err := require("options.path")
			if err != nil {
				return nil, err
			}
			server, err := require("options.server")
			if err != nil {
				return nil, err
			}
			// NFSVolumeSource(path, null, server): readOnly is never set.
			src.NFS = &corev1.NFSVolumeSource{Server: server, Path: path}
		default:
			return nil, fmt.Errorf("read %s%s.%s.*: Kubernetes Volume type `%s` is not supported", executorVolumesPrefix, v.kind, v.name, v.kind)
		}
		// constructVolumes: require(duplicateMountPaths.isEmpty, "Found duplicated mountPath: ...").
		if mountPaths[m.MountPath] {
			return nil, fmt.Errorf("read %s%s: Found duplicated mountPath: '%s'", executorVolumesPrefix, key("mount.path"), m.MountPath)
		}
		mountPaths[m.MountPath] = true
		out = append(out, executorVolume{mount: m, source: src})
	}
	return out, nil
}

// apply adds the steps' secrets, variables and volumes to executor id's pod and Spark's
// container c. BasicExecutorFeatureStep has already set Spark's own variables on c.
func (s confSteps) apply(p *ExecutorPlan, id int, pod *corev1.Pod, c *corev1.Container) {
	idStr := strconv.Itoa(id)
	// BasicExecutorFeatureStep lists SPARK_DRIVER_URL … SPARK_RESOURCE_PROFILE_ID, then
	// kubernetesConf.environment (spark.executorEnv.*), then SPARK_EXECUTOR_POD_IP and
	// SPARK_EXECUTOR_POD_NAME (buildEnvVarsWithFieldRef): an executorEnv variable overrides
	// SPARK_EXECUTOR_ID and the like, not the pod name. In SPARK_EXECUTOR_DIRS the words
	// SPARK_APPLICATION_ID and SPARK_EXECUTOR_ID become the ids.
	for _, e := range s.env {
		if e.Name == "SPARK_EXECUTOR_DIRS" {
			e.Value = strings.ReplaceAll(strings.ReplaceAll(e.Value, "SPARK_APPLICATION_ID", p.AppID), "SPARK_EXECUTOR_ID", idStr)
		}
		setEnv(c, e)
	}
	setEnv(c, corev1.EnvVar{Name: "SPARK_EXECUTOR_POD_NAME", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"},
	}})

	// MountSecretsFeatureStep: volume <secret>-volume from Secret <secret>, mounted at the
	// path in Spark's container.
	for _, sec := range s.secrets {
		vol := sec.secret + "-volume"
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: sec.secret},
		}})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: sec.path})
	}

	// EnvSecretsFeatureStep: each variable from its secret's key, after Basic's.
	for _, e := range s.secretEnv {
		setEnv(c, *e.DeepCopy())
	}

	// MountVolumesFeatureStep.constructVolumes. For an executor a claim name's OnDemand
	// becomes <resourceNamePrefix>-exec-<id>-pvc-<i> (i: the volume's index), then
	// SPARK_EXECUTOR_ID becomes the id. The emulator does not create the claim Spark's
	// allocator would create for an on-demand volume (with storageClass and sizeLimit).
	for i, v := range s.volumes {
		src := *v.source.DeepCopy()
		if claim := src.PersistentVolumeClaim; claim != nil {
			claim.ClaimName = strings.ReplaceAll(claim.ClaimName, "OnDemand", fmt.Sprintf("%s-exec-%d-pvc-%d", p.NamePrefix, id, i))
			claim.ClaimName = strings.ReplaceAll(claim.ClaimName, "SPARK_EXECUTOR_ID", idStr)
		}
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: v.mount.Name, VolumeSource: src})
		c.VolumeMounts = append(c.VolumeMounts, v.mount)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
