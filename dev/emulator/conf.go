package emulator

import (
	"context"
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// Where Spark's submission client puts the driver's configuration.
const (
	ConfVolumeName      = "spark-conf-volume-driver"
	ConfDir             = "/opt/spark/conf"
	PropertiesFileName  = "spark.properties"
	DriverContainerName = "spark-kubernetes-driver"
)

// DriverConf is what a driver reads at start: its properties and the executor pod template.
type DriverConf struct {
	Properties Properties
	// ExecutorTemplate is never nil: an empty pod when no template is configured.
	ExecutorTemplate *corev1.Pod
}

// configMapFile is one file of a configMap volume as the driver container sees it.
type configMapFile struct {
	ConfigMap, Key string
}

func (f configMapFile) String() string { return "ConfigMap " + f.ConfigMap + " key " + f.Key }

// ReadDriverConf reads spark.properties and the executor pod template from the ConfigMaps
// mounted into driver, the way the driver JVM would find them on its filesystem.
func ReadDriverConf(ctx context.Context, client kubernetes.Interface, driver *corev1.Pod) (*DriverConf, error) {
	propsFile, ok := findConfigMapFile(driver, path.Join(ConfDir, PropertiesFileName))
	if !ok {
		propsFile, ok = confVolumeFile(driver, PropertiesFileName)
	}
	if !ok {
		return nil, fmt.Errorf("find %s of driver %s/%s: no configMap volume %s or mount at %s",
			PropertiesFileName, driver.Namespace, driver.Name, ConfVolumeName, ConfDir)
	}
	text, err := readConfigMapFile(ctx, client, driver.Namespace, propsFile)
	if err != nil {
		return nil, fmt.Errorf("read %s of driver %s/%s: %w", PropertiesFileName, driver.Namespace, driver.Name, err)
	}
	props, err := ParseProperties(text)
	if err != nil {
		return nil, fmt.Errorf("read %s of driver %s/%s from %s: %w", PropertiesFileName, driver.Namespace, driver.Name, propsFile, err)
	}

	conf := &DriverConf{Properties: props, ExecutorTemplate: &corev1.Pod{}}
	templatePath := props.Get("spark.kubernetes.executor.podTemplateFile", "")
	if templatePath == "" {
		return conf, nil
	}
	tmplFile, ok := findConfigMapFile(driver, templatePath)
	if !ok {
		// The submission client may also ship the template beside spark.properties.
		tmplFile, ok = confVolumeFile(driver, path.Base(templatePath))
	}
	if !ok {
		return nil, fmt.Errorf("find executor pod template %s of driver %s/%s: no configMap volume mounted at %s, and no key %s in volume %s",
			templatePath, driver.Namespace, driver.Name, path.Dir(templatePath), path.Base(templatePath), ConfVolumeName)
	}
	text, err = readConfigMapFile(ctx, client, driver.Namespace, tmplFile)
	if err != nil {
		return nil, fmt.Errorf("read executor pod template %s of driver %s/%s: %w", templatePath, driver.Namespace, driver.Name, err)
	}
	if err := yaml.Unmarshal([]byte(text), conf.ExecutorTemplate); err != nil {
		return nil, fmt.Errorf("parse executor pod template %s of driver %s/%s from %s: %w", templatePath, driver.Namespace, driver.Name, tmplFile, err)
	}
	return conf, nil
}

func readConfigMapFile(ctx context.Context, client kubernetes.Interface, namespace string, f configMapFile) (string, error) {
	cm, err := client.CoreV1().ConfigMaps(namespace).Get(ctx, f.ConfigMap, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("get ConfigMap %s/%s: %w", namespace, f.ConfigMap, err)
	}
	if v, ok := cm.Data[f.Key]; ok {
		return v, nil
	}
	if v, ok := cm.BinaryData[f.Key]; ok {
		return string(v), nil
	}
	return "", fmt.Errorf("ConfigMap %s/%s has no key %s", namespace, f.ConfigMap, f.Key)
}

// findConfigMapFile resolves an absolute file path inside the driver container to the
// ConfigMap key behind it, through the container's volumeMounts and the pod's volumes.
func findConfigMapFile(pod *corev1.Pod, file string) (configMapFile, bool) {
	file = path.Clean(file)
	c := driverContainer(pod)
	if c == nil {
		return configMapFile{}, false
	}
	for _, m := range c.VolumeMounts {
		v := configMapVolume(pod, m.Name)
		if v == nil {
			continue
		}
		mountPath := path.Clean(m.MountPath)
		switch {
		case m.SubPath == "" && mountPath == path.Dir(file):
			if key, ok := keyForPath(v, path.Base(file)); ok {
				return configMapFile{v.Name, key}, true
			}
		case m.SubPath != "" && mountPath == file:
			// A subPath mount places one projected file (its item path) at mountPath.
			if key, ok := keyForPath(v, path.Clean(m.SubPath)); ok {
				return configMapFile{v.Name, key}, true
			}
		}
	}
	return configMapFile{}, false
}

// confVolumeFile finds file in the volume Spark names spark-conf-volume-driver.
func confVolumeFile(pod *corev1.Pod, file string) (configMapFile, bool) {
	v := configMapVolume(pod, ConfVolumeName)
	if v == nil {
		return configMapFile{}, false
	}
	key, ok := keyForPath(v, file)
	return configMapFile{v.Name, key}, ok
}

// keyForPath maps a path inside a configMap volume to its key: through items when they are
// listed (only those are projected), else the key is the path.
func keyForPath(v *corev1.ConfigMapVolumeSource, p string) (string, bool) {
	if len(v.Items) == 0 {
		return p, !strings.Contains(p, "/")
	}
	for _, it := range v.Items {
		if path.Clean(it.Path) == p {
			return it.Key, true
		}
	}
	return "", false
}

func configMapVolume(pod *corev1.Pod, name string) *corev1.ConfigMapVolumeSource {
	for i := range pod.Spec.Volumes {
		if v := &pod.Spec.Volumes[i]; v.Name == name && v.ConfigMap != nil {
			return v.ConfigMap
		}
	}
	return nil
}

// driverContainer is Spark's container in the driver pod: the one Spark names, else the first.
func driverContainer(pod *corev1.Pod) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == DriverContainerName {
			return &pod.Spec.Containers[i]
		}
	}
	if len(pod.Spec.Containers) > 0 {
		return &pod.Spec.Containers[0]
	}
	return nil
}
