package job

import (
	"strings"
	"testing"
)

func TestReadForms(t *testing.T) {
	bare := `{"name":"pi","namespace":"jobs","type":"Scala","image":"spark:4","mainClass":"A","mainApplicationFile":"local:///a.jar","driver":{"cores":1},"executor":{"instances":2}}`
	s, err := Read([]byte(bare))
	if err != nil || s.Name != "pi" || s.Namespace != "jobs" || *s.Executor.Instances != 2 {
		t.Fatalf("bare JSON: %+v, %v", s, err)
	}
	_, err = Read([]byte(`{"name":"pi","driver":{"coresss":1}}`))
	if err == nil || !strings.Contains(err.Error(), "coresss") {
		t.Errorf("unknown field not named: %v", err)
	}
	_, err = Read([]byte("apiVersion: sparkoperator.k8s.io/v1beta1\nkind: SparkApplication\nmetadata: {name: x}\nspec: {}\n"))
	if err == nil || !strings.Contains(err.Error(), "v1beta1") {
		t.Errorf("wrong apiVersion accepted: %v", err)
	}
	_, err = Read([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
	if err == nil {
		t.Error("a file without a SparkApplication was accepted")
	}
}

func TestReadNamesEveryUnknownFieldWithItsPath(t *testing.T) {
	manifest := `apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: pi, lables: {a: b}}
spec:
  type: Scala
  driver: {cores: 1, memroy: 2g}
  executor:
    instances: 2
  volumes:
    - name: data
      emptyDir: {}
      hostPth: {path: /x}
  sparkConf: {"spark.any.key": "is fine"}
`
	spec, unknown, err := ReadLenient([]byte(manifest))
	if err != nil || spec == nil {
		t.Fatalf("ReadLenient: %v", err)
	}
	var got []string
	for _, e := range unknown {
		got = append(got, e.Field)
	}
	want := []string{"metadata.lables", "spec.driver.memroy", "spec.volumes[0].hostPth"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("unknown fields %v, want %v", got, want)
	}
	if spec.Executor.Instances == nil || *spec.Executor.Instances != 2 {
		t.Error("the known fields were not read")
	}
	if _, err := Read([]byte(manifest)); err == nil || !strings.Contains(err.Error(), "(3 problems)") {
		t.Errorf("Read: %v, want the three unknown fields as one error", err)
	}
	if _, unknown, _ := ReadLenient([]byte(`{"name":"pi","driver":{"coresss":1}}`)); len(unknown) != 1 || unknown[0].Field != "spec.driver.coresss" {
		t.Errorf("bare spec: %v, want spec.driver.coresss", unknown)
	}
}
