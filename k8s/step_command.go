package k8s

import (
	"path"

	corev1 "k8s.io/api/core/v1"
)

// driverCommandStep is DriverCommandFeatureStep: the entrypoint's arguments, and for Python and
// R their environment and the main file among the files Spark ships.
func driverCommandStep(b *build, pod *corev1.Pod) error {
	c := mainContainer(pod)
	s := b.spec
	mainClass := s.MainClass
	switch s.Type {
	case TypePython:
		mainClass = "org.apache.spark.deploy.PythonRunner"
		if v := b.conf["spark.pyspark.python"]; v != "" {
			setEnv(c, corev1.EnvVar{Name: "PYSPARK_PYTHON", Value: v})
		}
		if v := confOr(b.conf, "spark.pyspark.driver.python", b.conf["spark.pyspark.python"]); v != "" {
			setEnv(c, corev1.EnvVar{Name: "PYSPARK_DRIVER_PYTHON", Value: v})
		}
		if s.PythonVersion != "" {
			setEnv(c, corev1.EnvVar{Name: "PYSPARK_MAJOR_PYTHON_VERSION", Value: s.PythonVersion})
		}
		b.set("spark.submit.pyFiles", joinAppend(b.conf["spark.submit.pyFiles"], []string{s.MainApplicationFile}))
	case TypeR:
		mainClass = "org.apache.spark.deploy.RRunner"
		b.set("spark.files", joinAppend(b.conf["spark.files"], []string{s.MainApplicationFile}))
	}
	args := []string{"driver"}
	if s.ProxyUser != "" {
		args = append(args, "--proxy-user", s.ProxyUser)
	}
	args = append(args, "--properties-file", path.Join(SparkConfDir, SparkPropertiesFile), "--class", mainClass, s.MainApplicationFile)
	c.Args = append(args, s.Arguments...)
	return nil
}
