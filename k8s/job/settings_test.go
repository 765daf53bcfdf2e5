package job

import (
	"strings"
	"testing"
	"time"
)

func TestKindlingSettingsAreCheckedAndRead(t *testing.T) {
	spec := validSpecForSettings()
	spec.SparkConf = map[string]string{
		ConfImagePullTimeout:          "soon",
		"spark.kindling.driver.retry": "3",
		ConfDriverStartTimeout:        "90s",
	}
	err := Errors(Check(spec))
	if err == nil {
		t.Fatal("want problems with the image pull timeout and the unknown key")
	}
	for _, want := range []string{
		`spec.sparkConf[spark.kindling.driver.imagePullTimeout]: "soon" is not a positive duration`,
		`spec.sparkConf[spark.kindling.driver.retry]: unknown Kindling setting`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), ConfDriverStartTimeout+"]") {
		t.Errorf("a valid 90s start timeout was reported:\n%v", err)
	}
	if got := SettingDuration(spec, ConfDriverStartTimeout, time.Minute); got != 90*time.Second {
		t.Errorf("start timeout = %s, want 90s", got)
	}
	if got := SettingDuration(spec, "spark.kindling.other", time.Minute); got != time.Minute {
		t.Errorf("unset setting = %s, want the default 1m", got)
	}
}

func validSpecForSettings() *JobSpec {
	s := &JobSpec{Name: "pi", Namespace: "default"}
	s.Type = TypeScala
	s.Image = "spark:4"
	s.MainClass = "org.apache.spark.examples.SparkPi"
	s.MainApplicationFile = "local:///opt/spark/examples/jars/spark-examples.jar"
	Default(s)
	return s
}

func TestValidationErrorSaysItOnceWithTheRightPlural(t *testing.T) {
	one := Errors(Check(&JobSpec{Name: "pi", Namespace: "default", SparkApplicationSpec: SparkApplicationSpec{
		Type: TypePython, Mode: ModeCluster, Image: "spark:4", MainApplicationFile: "local:///a.py", RestartPolicy: RestartPolicy{Type: "Maybe"}}}))
	if one == nil || !strings.HasPrefix(one.Error(), "invalid job spec (1 problem):\nspec.restartPolicy.type: ") {
		t.Errorf("one problem reads %q", one)
	}
	two := Errors(Check(&JobSpec{Name: "pi", Namespace: "Default", SparkApplicationSpec: SparkApplicationSpec{
		Type: TypePython, Mode: ModeCluster, Image: "spark:4", MainApplicationFile: "local:///a.py", RestartPolicy: RestartPolicy{Type: "Maybe"}}}))
	if two == nil || !strings.HasPrefix(two.Error(), "invalid job spec (2 problems):\n") {
		t.Errorf("two problems read %q", two)
	}
}
