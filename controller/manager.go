package controller

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"go.temporal.io/sdk/client"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/kindling-dev/kindling/k8s/api/v1beta2"
	"github.com/kindling-dev/kindling/k8s/render"
)

// Options configure the controller.
type Options struct {
	Kube      *rest.Config
	Temporal  client.Client
	TaskQueue string
	// Namespace limits the controller to SparkApplications there ("": every namespace).
	Namespace string
	// Leader election: one replica reconciles at a time, the others wait to take over.
	LeaderElectionNamespace string
	LeaderElectionID        string
	// Workers is how many objects are reconciled at once.
	Workers int
	Logger  *slog.Logger
}

// DefaultLeaderElectionID is the Lease the controller's replicas elect a leader by.
const DefaultLeaderElectionID = "kindling-controller"

// Start runs the controller until ctx ends. It refuses to start beside a live kubeflow Spark
// operator (both would run every SparkApplication) or without the SparkApplication CRD.
func Start(ctx context.Context, o Options) error {
	kube, err := kubernetes.NewForConfig(o.Kube)
	if err != nil {
		return err
	}
	if err := CheckNoOperator(ctx, kube, o.Namespace, time.Now()); err != nil {
		return err
	}
	crlog.SetLogger(logr.FromSlogHandler(o.Logger.Handler()))
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := v1beta2.AddToScheme(scheme); err != nil {
		return err
	}
	hasAppName, err := labels.NewRequirement(render.LabelOperatorAppName, selection.Exists, nil)
	if err != nil {
		return err
	}
	copts := cache.Options{
		// Only the pods of SparkApplications: the worker's own watch holds the rest.
		ByObject: map[ctrlclient.Object]cache.ByObject{&corev1.Pod{}: {Label: labels.NewSelector().Add(*hasAppName)}},
	}
	if o.Namespace != "" {
		copts.DefaultNamespaces = map[string]cache.Config{o.Namespace: {}}
	}
	if o.LeaderElectionID == "" {
		o.LeaderElectionID = DefaultLeaderElectionID
	}
	mgr, err := manager.New(o.Kube, manager.Options{
		Scheme:                        scheme,
		Cache:                         copts,
		LeaderElection:                true,
		LeaderElectionID:              o.LeaderElectionID,
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
	})
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	for _, kind := range []string{"SparkApplication", "ScheduledSparkApplication"} {
		if _, err := mgr.GetRESTMapper().RESTMapping(schema.GroupKind{Group: v1beta2.GroupVersion.Group, Kind: kind}, v1beta2.GroupVersion.Version); err != nil {
			if meta.IsNoMatchError(err) {
				return fmt.Errorf("controller: the API server has no sparkoperator.k8s.io/v1beta2 %s: install the CRDs first "+
					"(Kindling's: kubectl apply --server-side -k deploy/crds; the operator's work too)", kind)
			}
			return fmt.Errorf("controller: %w", err)
		}
	}
	r := &AppReconciler{
		Client:    mgr.GetClient(),
		Reader:    mgr.GetAPIReader(),
		Temporal:  o.Temporal,
		TaskQueue: o.TaskQueue,
		events:    make(chan event.GenericEvent, 256),
		base:      ctx,
	}
	workers := o.Workers
	if workers < 1 {
		workers = 4
	}
	err = builder.ControllerManagedBy(mgr).
		Named("sparkapplication").
		For(&v1beta2.SparkApplication{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, pod ctrlclient.Object) []reconcile.Request {
			if key, ok := podApp(pod); ok {
				return []reconcile.Request{{NamespacedName: key}}
			}
			return nil
		})).
		WatchesRawSource(source.Channel(r.events, &handler.EnqueueRequestForObject{})).
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	err = builder.ControllerManagedBy(mgr).
		Named("scheduledsparkapplication").
		For(&v1beta2.ScheduledSparkApplication{}).
		Owns(&v1beta2.SparkApplication{}).
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: 2}).
		Complete(&ScheduleReconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Temporal: o.Temporal, TaskQueue: o.TaskQueue})
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	o.Logger.Info("controller starting: waiting to lead", "lease", o.LeaderElectionNamespace+"/"+o.LeaderElectionID, "namespace", orAll(o.Namespace))
	return mgr.Start(ctx)
}

// CheckNoOperator fails when a kubeflow Spark operator's controller holds its leader lease:
// it and Kindling's controller would both run every SparkApplication.
// A worker allowed to list leases only in namespace (a namespaced install) looks there.
func CheckNoOperator(ctx context.Context, kube kubernetes.Interface, namespace string, now time.Time) error {
	leases, err := kube.CoordinationV1().Leases("").List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) && namespace != "" {
		// A namespaced install (a RoleBinding): look where it may.
		leases, err = kube.CoordinationV1().Leases(namespace).List(ctx, metav1.ListOptions{})
	}
	if err != nil {
		return fmt.Errorf("look for a running Spark operator (its leader lease): %w", err)
	}
	for _, l := range leases.Items {
		if held, ago := operatorLease(&l, now); held {
			return fmt.Errorf("a kubeflow Spark operator is running here: lease %s/%s is held by %q, renewed %s ago. "+
				"It and Kindling's controller would both run every SparkApplication: uninstall it (helm uninstall) "+
				"or scale its controller to 0 first, or run the worker without --controller",
				l.Namespace, l.Name, derefString(l.Spec.HolderIdentity), ago.Round(time.Second))
		}
	}
	return nil
}

// operatorLease: l is the operator controller's leader lease (the chart names it
// <release>-controller-lock), held and renewed within two lease durations.
func operatorLease(l *coordinationv1.Lease, now time.Time) (bool, time.Duration) {
	if !strings.HasSuffix(l.Name, "-controller-lock") || !strings.Contains(l.Name, "spark-operator") {
		return false, 0
	}
	if derefString(l.Spec.HolderIdentity) == "" || l.Spec.RenewTime == nil {
		return false, 0
	}
	d := 15 * time.Second
	if l.Spec.LeaseDurationSeconds != nil {
		d = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	ago := now.Sub(l.Spec.RenewTime.Time)
	return ago < 2*d, ago
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orAll(ns string) string {
	if ns == "" {
		return "all"
	}
	return ns
}
