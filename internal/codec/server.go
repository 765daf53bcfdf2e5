package codec

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// maxBody bounds a request body; Temporal's own payload limits are far lower.
const maxBody = 32 << 20

// ServerOptions configures Server.
type ServerOptions struct {
	// Origins are the exact origins (scheme://host[:port]) of Temporal UIs
	// allowed to call the server from a browser. Others get no CORS headers.
	Origins []string
	// Namespaces are the Temporal namespaces served; empty means any.
	Namespaces []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true, for a UI
	// set to "include cross-origin credentials".
	AllowCredentials bool
}

// Server returns the HTTP handler of "kindling codec-server", the endpoint
// the Temporal UI and CLI (--codec-endpoint) call to encode and decode
// payloads. It serves POST /{namespace}/encode and /{namespace}/decode, and
// /encode and /decode with the namespace in the X-Namespace header; bodies
// are Payloads in protobuf-JSON. OPTIONS preflights get 204 before any other
// check, with CORS headers only for an allowed origin.
func Server(c *Codec, opts ServerOptions) http.Handler {
	return &server{opts: opts, next: converter.NewPayloadCodecHTTPHandler(c)}
}

type server struct {
	opts ServerOptions
	next http.Handler
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin") // the answer depends on the origin, for every origin
	if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(s.opts.Origins, origin) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
		if s.opts.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "method not allowed: use POST", http.StatusMethodNotAllowed)
		return
	}

	pathNS, ok := route(r.URL.Path)
	if !ok {
		http.Error(w, "not found: use POST /{namespace}/encode, /{namespace}/decode, /encode or /decode", http.StatusNotFound)
		return
	}
	headerNS := r.Header.Get("X-Namespace")
	if len(s.opts.Namespaces) > 0 {
		if pathNS == "" && headerNS == "" {
			http.Error(w, "forbidden: no namespace in the path or X-Namespace header", http.StatusForbidden)
			return
		}
		for _, ns := range []string{pathNS, headerNS} {
			if ns != "" && !slices.Contains(s.opts.Namespaces, ns) {
				http.Error(w, fmt.Sprintf("forbidden: namespace %q is not served here", ns), http.StatusForbidden)
				return
			}
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	s.next.ServeHTTP(w, r)
}

// route accepts /encode, /decode, /{ns}/encode and /{ns}/decode and returns
// the namespace from the path, if any.
func route(path string) (namespace string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	last := parts[len(parts)-1]
	if last != "encode" && last != "decode" {
		return "", false
	}
	switch len(parts) {
	case 1:
		return "", true
	case 2:
		return parts[0], parts[0] != ""
	}
	return "", false
}
