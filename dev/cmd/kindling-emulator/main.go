// Command kindling-emulator plays the Spark driver for driver pods on the local kwok stack,
// where no container really runs. See package dev/emulator.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kindling-dev/kindling/dev/emulator"
)

func main() {
	if err := run(); err != nil {
		slog.Error("kindling-emulator failed", "err", err)
		os.Exit(1)
	}
}

func run() error {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster to emulate drivers on")
	namespace := flag.String("namespace", "", `only drive pods in this namespace; "" drives all`)
	ignore := flag.String("ignore-namespace-selector", emulator.LabelNamespaceEmulator+"="+emulator.NamespaceTestValue,
		`skip drivers in namespaces whose labels match this selector (tests run their own emulator there); "" skips none`)
	backoff := flag.Duration("image-pull-backoff-after", 2*time.Second, "how long an image-pull-error driver shows ErrImagePull before ImagePullBackOff")
	verbose := flag.Bool("v", false, "log debug messages")
	logDir := flag.String("pod-log-dir", "", "write what emulated drivers print here, served by kwok as their log (the cluster needs --enable-crds=Logs); \"\": no logs")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)

	if *kubeconfig == "" {
		return fmt.Errorf("no kubeconfig: pass --kubeconfig or set KUBECONFIG")
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig %s: %w", *kubeconfig, err)
	}
	// One app makes a few dozen writes in a burst, and a thousand apps (make bench's scale run)
	// ten thousand executors: a client rate limit would pace them, not the API server.
	restConfig.QPS, restConfig.Burst = 2000, 4000
	restConfig.UserAgent = "kindling-emulator"
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return fmt.Errorf("create client for %s: %w", restConfig.Host, err)
	}
	var ignored labels.Selector
	if *ignore != "" {
		if ignored, err = labels.Parse(*ignore); err != nil {
			return fmt.Errorf("parse --ignore-namespace-selector %q: %w", *ignore, err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var logs *emulator.PodLogs
	if *logDir != "" {
		dyn, err := dynamic.NewForConfig(restConfig)
		if err != nil {
			return err
		}
		logs = &emulator.PodLogs{Dir: *logDir, Dynamic: dyn}
	}
	return emulator.New(client, emulator.Config{
		Namespace:             *namespace,
		IgnoreNamespaces:      ignored,
		ImagePullBackOffAfter: *backoff,
		Logger:                log,
		Logs:                  logs,
	}).Run(ctx)
}
