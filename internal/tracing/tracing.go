// Package tracing sets up OpenTelemetry tracing for Kindling's processes from the standard
// OTEL_* environment, and gives Temporal the interceptor that carries one trace from
// `kindling submit` through the workflow into each activity.
package tracing

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Enabled tells whether the environment asks for traces: an OTLP endpoint is set
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and
// OTEL_TRACES_EXPORTER is not "none".
func Enabled() bool {
	if os.Getenv("OTEL_TRACES_EXPORTER") == "none" || os.Getenv("OTEL_SDK_DISABLED") == "true" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup exports traces over OTLP/HTTP as the OTEL_* environment says (endpoint, headers,
// protocol, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) and returns Temporal's tracing
// interceptor, for client.Options.Interceptors, and a shutdown that flushes what is left.
// When the environment asks for no traces it returns no interceptor and a no-op shutdown.
func Setup(ctx context.Context, service string) ([]interceptor.ClientInterceptor, func(context.Context) error, error) {
	nop := func(context.Context) error { return nil }
	if !Enabled() {
		return nil, nop, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nop, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil {
		return nil, nop, err
	}
	if os.Getenv("OTEL_SERVICE_NAME") != "" {
		res = resource.Default() // the environment names the service
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: tp.Tracer("kindling")})
	if err != nil {
		return nil, nop, err
	}
	return []interceptor.ClientInterceptor{i}, tp.Shutdown, nil
}

// TraceID is the trace ctx belongs to, or "" outside one.
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}
