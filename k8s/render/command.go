package render

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// command is DriverCommandFeatureStep, with what spark-submit does before it: the
// dependencies (--jars, --packages, …) as Spark's keys, the Python version, and for Python
// and R the main file among the files Spark ships.
var command = feature{
	name:     "command",
	validate: validateCommand,
	conf:     commandConf,
	driver:   driverCommandStep,
}

// commandConf sets the dependency keys as spark-submit's --jars, --packages, … do.
func commandConf(b *build) {
	s, c := b.spec, b.conf
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	set("spark.kubernetes.pyspark.pythonVersion", s.PythonVersion)
	// The operator passes spec.deps as spark-submit's --jars, --packages, …, and
	// SparkSubmitArguments.loadEnvironmentArguments takes a flag over the sparkConf key
	// (Option(jars).orElse(sparkProperties.get(JARS))): deps replace, they do not add.
	replace := func(k string, deps []string) {
		if len(deps) > 0 {
			c[k] = strings.Join(deps, ",")
		}
	}
	replace("spark.jars", s.Deps.Jars)
	replace("spark.files", s.Deps.Files)
	replace("spark.submit.pyFiles", s.Deps.PyFiles)
	replace("spark.archives", s.Deps.Archives)
	replace("spark.jars.packages", s.Deps.Packages)
	replace("spark.jars.excludes", s.Deps.ExcludePackages)
	replace("spark.jars.repositories", s.Deps.Repositories)
	// SparkSubmit.prepareSubmitEnvironment adds the primary resource of a JVM application to
	// spark.jars ("so the user doesn't have to call sc.addJar"); since SPARK-47495 (4.0) the
	// driver no longer adds it again, so without it executors lack the application's classes.
	if (s.Type == job.TypeJava || s.Type == job.TypeScala) && s.MainApplicationFile != "" {
		set("spark.jars", joinAppend(c["spark.jars"], []string{s.MainApplicationFile}))
	}
}

func validateCommand(s *job.JobSpec) field.ErrorList {
	switch s.PythonVersion {
	case "", "2", "3":
		return nil
	}
	return field.ErrorList{job.Invalid(job.SpecPath.Child("pythonVersion"), "must be 2 or 3; got %q", s.PythonVersion)}
}

// driverCommandStep is DriverCommandFeatureStep: the entrypoint's arguments, and for Python
// its environment.
func driverCommandStep(b *build, pod *corev1.Pod) error {
	c := mainContainer(pod)
	s := b.spec
	mainClass := s.MainClass
	switch s.Type {
	case job.TypePython:
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
	case job.TypeR:
		mainClass = "org.apache.spark.deploy.RRunner"
	}
	// The main Python or R file is not shipped as a dependency here: DriverCommandFeatureStep
	// (Spark 3.1 on) passes it only as the driver's argument, and the driver's own spark-submit,
	// in client mode, adds it to spark.files (SparkSubmit.prepareSubmitEnvironment).
	args := []string{"driver"}
	if s.ProxyUser != "" {
		args = append(args, "--proxy-user", s.ProxyUser)
	}
	args = append(args, "--properties-file", path.Join(SparkConfDir, SparkPropertiesFile), "--class", mainClass, s.MainApplicationFile)
	c.Args = append(args, s.Arguments...)
	return nil
}
