package cluster

import (
	"fmt"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// Clients are the Kubernetes clients a worker or a test needs.
type Clients struct {
	Config  *rest.Config
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	Mapper  *restmapper.DeferredDiscoveryRESTMapper
}

// The client-side rate limit of Connect's clients: requests per second, and the burst above it.
const (
	DefaultQPS   = 200
	DefaultBurst = 400
)

// Connect loads a kubeconfig by the usual rules: the explicit path when given, else
// $KUBECONFIG, else ~/.kube/config, else the in-cluster service account.
func Connect(kubeconfig string) (*Clients, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	// One worker creates and deletes for hundreds of jobs at once: client-go's default 5 QPS
	// would queue them. A worker sets its own (--kube-qps); make bench measures the effect.
	cfg.QPS, cfg.Burst = DefaultQPS, DefaultBurst
	return ConnectConfig(cfg)
}

// ConnectConfig builds the clients from a REST config.
func ConnectConfig(cfg *rest.Config) (*Clients, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &Clients{
		Config:  cfg,
		Kube:    cs,
		Dynamic: dyn,
		Mapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
	}, nil
}
