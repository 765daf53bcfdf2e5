package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

func newLogsCmd(opts *temporalOptions) *cobra.Command {
	var (
		follow            bool
		executor, attempt int
		tail              int64
		kubeconfig        string
	)
	cmd := &cobra.Command{
		Use:   "logs ID",
		Short: "Print a job's driver log (or an executor's); -f follows it",
		Long: "logs prints the log of a job's driver (the current attempt's while it runs, the last one's after) " +
			"from Kubernetes, or of executor N with --executor N; --attempt N picks an earlier attempt of an ended " +
			"job. Kindling deletes a job's pods when it ends unless spec.timeToLiveSeconds keeps them, and a " +
			"failed job's result carries the last lines of its driver's log. Exit 3: no such job or pod.",
		Args: cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			ctx := cmd.Context()
			ns, appID, driverPod, err := attemptPods(ctx, c, opts, args[0], attempt)
			if err != nil {
				return err
			}
			kc, err := cluster.Connect(kubeconfig)
			if err != nil {
				return err
			}
			pod, container := driverPod, job.DriverContainerName
			if executor > 0 {
				container = job.ExecutorContainerName
				list, err := kc.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(labels.Set{
					job.LabelSparkAppID: appID, job.LabelSparkExecID: strconv.Itoa(executor)}).String()})
				if err != nil {
					return fmt.Errorf("find executor %d of %s: %w", executor, args[0], err)
				}
				if len(list.Items) == 0 {
					return exitError{code: exitNotFound, err: fmt.Errorf("job %s has no executor %d pod in %s (Spark deletes executors as the app ends)", args[0], executor, ns)}
				}
				pod = list.Items[0].Name
			}
			opts := &corev1.PodLogOptions{Container: container, Follow: follow}
			if tail > 0 {
				opts.TailLines = &tail
			}
			out := &lastWrite{w: cmd.OutOrStdout()}
			if follow {
				// A follow stream ends when the container does, but a node's log server may keep
				// it open: once the container has ended and nothing came for 2s, stop.
				if p, err := kc.Kube.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{}); err == nil && containerEnded(p, container) {
					opts.Follow = false // ended already: print what there is
				} else {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					defer cancel()
					go func() {
						for ctx.Err() == nil {
							p, err := kc.Kube.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
							if apierrors.IsNotFound(err) || (err == nil && containerEnded(p, container)) {
								for out.idle() < 2*time.Second {
									time.Sleep(500 * time.Millisecond)
								}
								cancel()
								return
							}
							time.Sleep(time.Second)
						}
					}()
				}
			}
			stream, err := kc.Kube.CoreV1().Pods(ns).GetLogs(pod, opts).Stream(ctx)
			if apierrors.IsNotFound(err) {
				return exitError{code: exitNotFound, err: fmt.Errorf("pod %s/%s is gone: Kindling deletes a job's pods when it ends; spec.timeToLiveSeconds keeps them for reading", ns, pod)}
			}
			if err != nil {
				return fmt.Errorf("log of %s/%s: %w", ns, pod, err)
			}
			defer stream.Close()
			_, err = io.Copy(out, stream)
			if ctx.Err() != nil {
				return nil // followed to the container's end
			}
			return err
		}),
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "follow the log as it grows, until the container ends")
	cmd.Flags().IntVar(&executor, "executor", 0, "print executor N's log instead of the driver's")
	cmd.Flags().IntVar(&attempt, "attempt", 0, "attempt of an ended job (default: the last)")
	cmd.Flags().Int64Var(&tail, "tail", 0, "print only the last N lines")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig (default: $KUBECONFIG, ~/.kube/config, then in-cluster)")
	return cmd
}

// lastWrite is a writer that remembers when it was last written to.
type lastWrite struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
}

func (l *lastWrite) Write(b []byte) (int, error) {
	l.mu.Lock()
	l.last = time.Now()
	l.mu.Unlock()
	return l.w.Write(b)
}

// idle is how long nothing was written (since the start when nothing was).
func (l *lastWrite) idle() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.last = time.Now()
	}
	return time.Since(l.last)
}

// containerEnded tells whether the named container of p has terminated.
func containerEnded(p *corev1.Pod, name string) bool {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return true
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == name && cs.State.Terminated != nil {
			return true
		}
	}
	return false
}

// attemptPods names where an attempt of a job ran: its namespace, Spark app ID and driver pod.
func attemptPods(ctx context.Context, c client.Client, opts *temporalOptions, id string, attempt int) (ns, appID, driverPod string, err error) {
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return "", "", "", exitError{code: exitNotFound, err: fmt.Errorf("no job %s (`kindling list` shows them)", id)}
	}
	if err != nil {
		return "", "", "", fmt.Errorf("job %s: %w", id, err)
	}
	ns = str(d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()["KindlingNamespace"])
	if d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		st, err := queryStatus(ctx, c, opts.dc, id, "")
		if err != nil {
			return "", "", "", err
		}
		if attempt != 0 && attempt != st.Attempt {
			return "", "", "", exitError{code: exitInvalid, err: fmt.Errorf("job %s runs attempt %d: while it runs only that attempt's pods are there", id, st.Attempt)}
		}
		if st.DriverPod == "" {
			return "", "", "", exitError{code: exitNotFound, err: fmt.Errorf("job %s has no driver pod yet (%s)", id, st.Stage)}
		}
		return ns, st.AppID, st.DriverPod, nil
	}
	var res workflows.JobResult
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		r, ok := workflows.ResultFromError(err)
		if !ok {
			return "", "", "", fmt.Errorf("job %s: %w", id, unwrapApp(err))
		}
		res = r
	}
	if len(res.Attempts) == 0 {
		return "", "", "", exitError{code: exitNotFound, err: fmt.Errorf("job %s ended before it made a driver pod: %s", id, res.Reason)}
	}
	at := res.Attempts[len(res.Attempts)-1]
	if attempt > 0 {
		if attempt > len(res.Attempts) {
			return "", "", "", exitError{code: exitInvalid, err: fmt.Errorf("--attempt %d: job %s made %d attempts in its last run", attempt, id, len(res.Attempts))}
		}
		at = res.Attempts[attempt-1]
	}
	return ns, at.AppID, at.DriverPod, nil
}
