package activities

import (
	"context"
	"net/http"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kindling-dev/kindling/k8s/cluster"
)

// Activities holds the dependencies of every activity; one value is registered per worker.
type Activities struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface // for extra objects (PodGroups, PVCs) by their kind
	Mapper  meta.RESTMapper   // kind → resource, for Dynamic
	Pods    *cluster.PodWatch // the worker's one shared pod informer
	HTTP    *http.Client      // dependency checks
	// WatchNamespace is the one Kubernetes namespace Pods follows; "" for all.
	WatchNamespace string
	// Temporal tells the sweep which runs have ended.
	Temporal WorkflowDescriber
}

func (a *Activities) objects() cluster.Objects {
	return cluster.Objects{Kube: a.Kube, Dynamic: a.Dynamic, Mapper: a.Mapper}
}

// logger is the activity's logger (with workflow and activity IDs), or a no-op outside one.
func logger(ctx context.Context) log.Logger {
	if activity.IsActivity(ctx) {
		return activity.GetLogger(ctx)
	}
	return nopLogger{}
}

type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
