package cluster

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

var tracer = otel.Tracer("github.com/kindling-dev/kindling/k8s/cluster")

// span starts a span for one Kubernetes call, a child of the activity's span when tracing is
// on (a no-op otherwise), and returns what ends it with the call's error.
func span(ctx context.Context, what, namespace, name string) func(error) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return func(error) {}
	}
	_, s := tracer.Start(ctx, "kubernetes: "+what, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("k8s.namespace.name", namespace), attribute.String("k8s.object.name", name)))
	return func(err error) {
		if err != nil {
			s.SetStatus(codes.Error, err.Error())
		}
		s.End()
	}
}
