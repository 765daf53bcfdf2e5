// Package crashpoint kills the worker at a named point of its work, so the end-to-end tests
// can prove that a worker killed anywhere (between two creates, in the middle of a cleanup)
// leaves neither a second driver nor anything behind.
//
// It does nothing unless the process was started with KINDLING_CRASH_AT naming the point.
// KINDLING_CRASH_MARKER names a file made just before the kill: a worker restarted with the
// same environment finds it and passes the point, as a real restarted worker would.
package crashpoint

import (
	"os"
)

// The points the worker passes.
const (
	AfterConfigMap     = "create:after-configmap"  // the conf ConfigMap exists, the driver pod does not
	AfterDriverPod     = "create:after-driver-pod" // the driver pod exists, its service does not
	CleanupAfterDelete = "cleanup:after-delete"    // deletes sent, pods not yet gone
)

var at, marker = os.Getenv("KINDLING_CRASH_AT"), os.Getenv("KINDLING_CRASH_MARKER")

// Here kills the process with SIGKILL if it was told to crash at point and has not yet.
func Here(point string) {
	if at == "" || at != point {
		return
	}
	if marker != "" {
		f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return // crashed here before (or cannot tell): go on
		}
		_ = f.Close()
	}
	p, _ := os.FindProcess(os.Getpid())
	_ = p.Kill()
	select {} // the signal is on its way; never return into the work
}
