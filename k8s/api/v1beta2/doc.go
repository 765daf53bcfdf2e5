// Package v1beta2 is the kubeflow Spark operator's API, sparkoperator.k8s.io/v1beta2, as
// Kindling serves it in controller mode: the SparkApplication and ScheduledSparkApplication
// custom resources, with the operator's status types, JSON names and kubebuilder markers.
//
// The specs are package job's (job.SparkApplicationSpec, job.ScheduledSparkApplicationSpec),
// which mirror the operator's field for field; this package adds the objects around them and
// the status the operator writes. controller-gen writes zz_generated.deepcopy.go and the CRDs
// in deploy/crds from these types: run dev/tools/controller-gen/generate.sh after changing them.
//
// +kubebuilder:object:generate=true
// +groupName=sparkoperator.k8s.io
// +versionName=v1beta2
package v1beta2
