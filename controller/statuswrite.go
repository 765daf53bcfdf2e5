package controller

import (
	"context"
	"encoding/json"

	"k8s.io/client-go/util/retry"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// statusObject is an API object of type *T that copies itself.
type statusObject[T any] interface {
	*T
	ctrlclient.Object
	DeepCopy() *T
}

// updateStatus changes obj's status with change, on the object as it is now: a conflict is
// retried on a fresh read from the API server (reader), never the cache. An unchanged status
// (status gives it, compared as JSON) is not written. obj becomes the object as written.
func updateStatus[T any, P statusObject[T]](ctx context.Context, c ctrlclient.Client, reader ctrlclient.Reader, obj P, status func(P) any, change func(P)) error {
	key := ctrlclient.ObjectKeyFromObject(obj)
	first := true
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := obj
		if !first {
			cur = P(new(T))
			if err := reader.Get(ctx, key, cur); err != nil {
				return err
			}
		}
		first = false
		next := P(cur.DeepCopy())
		change(next)
		x, _ := json.Marshal(status(cur))
		y, _ := json.Marshal(status(next))
		if string(x) == string(y) {
			return nil
		}
		if err := c.Status().Update(ctx, next); err != nil {
			return err
		}
		*obj = *next
		return nil
	})
}
