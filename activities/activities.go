package activities

import (
	"net/http"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kindling-dev/kindling/k8s"
)

// Activities holds the dependencies of every activity; one value is registered per worker.
type Activities struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface // for extra objects (PodGroups, PVCs) by their kind
	Mapper  meta.RESTMapper   // kind → resource, for Dynamic
	Pods    *k8s.PodWatch     // the worker's one shared pod informer
	HTTP    *http.Client      // dependency checks
}
