package render

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// localDirs is LocalDirsFeatureStep. Executors get theirs from Spark's executor step.
var localDirs = feature{name: "local-dirs", driver: localDirsStep}

// localDirsStep is LocalDirsFeatureStep: an emptyDir per local dir and SPARK_LOCAL_DIRS, unless
// the user mounts spark-local-dir-* volumes, which then are the local dirs.
func localDirsStep(b *build, pod *corev1.Pod) error {
	c := mainContainer(pod)
	var userDirs []string
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(m.Name, "spark-local-dir-") {
			userDirs = append(userDirs, m.MountPath)
		}
	}
	if len(userDirs) > 0 {
		setEnv(c, corev1.EnvVar{Name: "SPARK_LOCAL_DIRS", Value: strings.Join(userDirs, ",")})
		return nil
	}
	dirs := splitList(confOr(b.conf, "spark.local.dir", ""))
	if len(dirs) == 0 {
		// Spark picks /var/data/spark-<random UUID>; the app id keeps it deterministic.
		dirs = []string{"/var/data/spark-" + strings.TrimPrefix(b.names.AppID, "spark-")}
	}
	medium := corev1.StorageMediumDefault
	if b.conf["spark.kubernetes.local.dirs.tmpfs"] == "true" {
		medium = corev1.StorageMediumMemory
	}
	for i, d := range dirs {
		name := "spark-local-dir-" + itoa(i+1)
		addVolume(pod, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: medium}}})
		addMount(c, corev1.VolumeMount{Name: name, MountPath: d})
	}
	setEnv(c, corev1.EnvVar{Name: "SPARK_LOCAL_DIRS", Value: strings.Join(dirs, ",")})
	return nil
}
