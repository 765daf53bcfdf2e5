package codec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const sentinel = "s3cr3t-SENTINEL-4711"

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustKeyring(t *testing.T, active string, keys map[string][]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(active, keys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type job struct {
	Name      string
	SparkConf map[string]string
}

func TestDataConverterRoundTrip(t *testing.T) {
	dc := DataConverter(New(mustKeyring(t, "k1", map[string][]byte{"k1": key(1)})))
	in := job{Name: "nightly", SparkConf: map[string]string{"spark.password": sentinel}}

	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.Metadata[converter.MetadataEncoding]); got != EncodingEncrypted {
		t.Errorf("encoding = %q, want %q", got, EncodingEncrypted)
	}
	if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
		t.Errorf("key id = %q, want k1", got)
	}
	raw, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(sentinel)) || bytes.Contains(raw, []byte("json/plain")) {
		t.Fatalf("encoded payload leaks plaintext: %q", raw)
	}

	var out job
	if err := dc.FromPayload(p, &out); err != nil {
		t.Fatal(err)
	}
	if out.Name != in.Name || out.SparkConf["spark.password"] != sentinel {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
}

func TestOldKeyDecodesAfterRotation(t *testing.T) {
	a := New(mustKeyring(t, "k1", map[string][]byte{"k1": key(1)}))
	b := New(mustKeyring(t, "k2", map[string][]byte{"k1": key(1), "k2": key(2)}))
	orig := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"` + sentinel + `"`)}

	enc, err := a.Encode([]*commonpb.Payload{orig})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := b.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(dec[0], orig) {
		t.Errorf("decoded = %v, want %v", dec[0], orig)
	}

	enc2, err := b.Encode([]*commonpb.Payload{orig})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(enc2[0].Metadata[MetadataKeyID]); got != "k2" {
		t.Errorf("after rotation key id = %q, want k2", got)
	}
	if _, err := a.Decode(enc2); err == nil {
		t.Error("keyring without k2 decoded a k2 payload")
	}
}

func TestUnknownKeyID(t *testing.T) {
	a := New(mustKeyring(t, "old-key", map[string][]byte{"old-key": key(1)}))
	b := New(mustKeyring(t, "k2", map[string][]byte{"k2": key(2)}))
	enc, err := a.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Decode(enc)
	if err == nil || !strings.Contains(err.Error(), `"old-key"`) || !strings.Contains(err.Error(), "not in the keyring") {
		t.Fatalf("err = %v, want it to name old-key and say it is not in the keyring", err)
	}
}

func TestTamperedPayloadFails(t *testing.T) {
	c := New(mustKeyring(t, "k1", map[string][]byte{"k1": key(1)}))
	enc, err := c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	enc[0].Data[len(enc[0].Data)-1] ^= 1
	if _, err := c.Decode(enc); err == nil {
		t.Fatal("tampered payload decoded")
	}
}

func TestUnencryptedPassesThrough(t *testing.T) {
	c := New(mustKeyring(t, "k1", map[string][]byte{"k1": key(1)}))
	plain, err := converter.GetDefaultDataConverter().ToPayload(job{Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.Decode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(dec[0], plain) {
		t.Errorf("decoded = %v, want unchanged %v", dec[0], plain)
	}
	var out job
	if err := DataConverter(c).FromPayload(plain, &out); err != nil || out.Name != "old" {
		t.Errorf("FromPayload of plaintext = %+v, %v", out, err)
	}
}

// secretDir lays out dir as kubelet mounts a Secret: the files live in a
// timestamped directory, ..data links to it, and each key links via ..data.
func secretDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	ts := "..2026_01_02_03_04_05.123456789"
	if err := os.Mkdir(filepath.Join(dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(ts, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, ts, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDirSecretLayout(t *testing.T) {
	dir := secretDir(t, map[string][]byte{
		"k1":     []byte(base64.StdEncoding.EncodeToString(key(1)) + "\n"),
		"k2":     key(2),
		"active": []byte("k2\n"),
	})
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	k, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k.ActiveID() != "k2" {
		t.Errorf("active = %q, want k2", k.ActiveID())
	}
	if got := strings.Join(k.IDs(), ","); got != "k1,k2" {
		t.Errorf("ids = %s, want k1,k2", got)
	}

	// The base64 file must give the same key as the raw bytes.
	enc, err := New(mustKeyring(t, "k1", map[string][]byte{"k1": key(1)})).Encode([]*commonpb.Payload{{Data: []byte(sentinel)}})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := New(k).Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if string(dec[0].Data) != sentinel {
		t.Errorf("decoded %q", dec[0].Data)
	}
}

func TestLoadDirSingleKeyNoActive(t *testing.T) {
	dir := secretDir(t, map[string][]byte{"only": []byte(base64.StdEncoding.EncodeToString(key(3)))})
	k, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k.ActiveID() != "only" {
		t.Errorf("active = %q, want only", k.ActiveID())
	}
}

func TestLoadDirErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"bad length", map[string][]byte{"k1": []byte("abcdefghijklmnopq")}, "k1: want 32 bytes (AES-256) or their base64, got 17 bytes"},
		{"short base64", map[string][]byte{"k1": []byte(base64.StdEncoding.EncodeToString(key(1)[:16]))}, "k1: base64 decodes to 16 bytes, want 32 (AES-256)"},
		{"two keys no active", map[string][]byte{"k1": key(1), "k2": key(2)}, `2 keys and no "active" file`},
		{"active names missing key", map[string][]byte{"k1": key(1), "active": []byte("k9")}, `names key "k9"`},
		{"bad key id", map[string][]byte{"k 1": key(1)}, "must match [A-Za-z0-9._-]+"},
		{"no keys", map[string][]byte{}, "no key files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadDir(secretDir(t, tc.files))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if err != nil && bytes.Contains([]byte(err.Error()), key(1)) {
				t.Fatalf("error leaks key material: %v", err)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	b64 := func(b byte) string { return base64.StdEncoding.EncodeToString(key(b)) }
	k, err := FromEnv("new:" + b64(2) + ",old:" + b64(1))
	if err != nil {
		t.Fatal(err)
	}
	if k.ActiveID() != "new" || strings.Join(k.IDs(), ",") != "new,old" {
		t.Errorf("active %q ids %v", k.ActiveID(), k.IDs())
	}
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"nocolon", "want id:base64key"},
		{"bad/id:" + b64(1), "must match [A-Za-z0-9._-]+"},
		{"k1:!!!", "not standard base64"},
		{"k1:" + base64.StdEncoding.EncodeToString([]byte("short")), "decodes to 5 bytes"},
		{"k1:" + b64(1) + ",k1:" + b64(2), "given twice"},
	} {
		if _, err := FromEnv(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromEnv(%q) err = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestFailureConverterEncryptsMessage(t *testing.T) {
	dc := DataConverter(New(mustKeyring(t, "k1", map[string][]byte{"k1": key(1)})))
	fc := FailureConverter(dc)

	f := fc.ErrorToFailure(temporal.NewApplicationError("invalid spec: "+sentinel, "InvalidSpec"))
	if strings.Contains(f.GetMessage(), sentinel) || strings.Contains(f.GetStackTrace(), sentinel) {
		t.Fatalf("failure message in clear: %q", f.GetMessage())
	}
	if f.GetEncodedAttributes() == nil {
		t.Fatal("no encoded attributes")
	}
	raw, err := proto.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(sentinel)) {
		t.Fatal("failure proto contains the sentinel")
	}

	err = fc.FailureToError(f)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Fatalf("FailureToError = %T %v, want *ApplicationError", err, err)
	}
	if !strings.Contains(appErr.Message(), sentinel) || appErr.Type() != "InvalidSpec" {
		t.Errorf("decoded error = %v (type %q)", appErr, appErr.Type())
	}
	// The SDK records a local activity's failure after decoding it: decoding must not
	// write the message back into the failure it was given.
	if strings.Contains(f.GetMessage(), sentinel) {
		t.Errorf("FailureToError put the message back in clear text into its input: %q", f.GetMessage())
	}
}

const uiOrigin = "https://temporal.example.com"

func testServer(t *testing.T, c *Codec) http.Handler {
	return Server(c, ServerOptions{Origins: []string{uiOrigin}, Namespaces: []string{"default"}, AllowCredentials: true})
}

func TestServerPreflight(t *testing.T) {
	h := testServer(t, New(mustKeyring(t, "k1", map[string][]byte{"k1": key(1)})))
	preflight := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "/not-served-ns/decode", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	w := preflight(uiOrigin)
	if w.Code != http.StatusNoContent {
		t.Errorf("allowed preflight status = %d, want 204", w.Code)
	}
	for name, want := range map[string]string{
		"Access-Control-Allow-Origin":      uiOrigin,
		"Access-Control-Allow-Methods":     "POST, OPTIONS",
		"Access-Control-Allow-Headers":     "Content-Type, X-Namespace, Authorization",
		"Access-Control-Allow-Credentials": "true",
		"Vary":                             "Origin",
	} {
		if got := w.Header().Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	w = preflight("https://evil.example.com")
	if w.Code != http.StatusNoContent {
		t.Errorf("other preflight status = %d, want 204", w.Code)
	}
	for name := range w.Header() {
		if strings.HasPrefix(name, "Access-Control-") {
			t.Errorf("other origin got %s: %q", name, w.Header().Get(name))
		}
	}
}

func TestServerNoCredentialsUnlessAsked(t *testing.T) {
	h := Server(New(mustKeyring(t, "k1", map[string][]byte{"k1": key(1)})), ServerOptions{Origins: []string{uiOrigin}})
	r := httptest.NewRequest(http.MethodOptions, "/decode", nil)
	r.Header.Set("Origin", uiOrigin)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Header().Get("Access-Control-Allow-Origin") != uiOrigin {
		t.Error("no Allow-Origin for an allowed origin")
	}
	if got := w.Header().Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("Allow-Credentials = %q without AllowCredentials", got)
	}
}

func post(t *testing.T, h http.Handler, path, namespace string, payloads []*commonpb.Payload) *httptest.ResponseRecorder {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Origin", uiOrigin)
	if namespace != "" {
		r.Header.Set("X-Namespace", namespace)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decodeBody(t *testing.T, w *httptest.ResponseRecorder) []*commonpb.Payload {
	t.Helper()
	var out commonpb.Payloads
	if err := protojson.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("response %q: %v", w.Body.String(), err)
	}
	return out.Payloads
}

func TestServerDecodeRoundTrip(t *testing.T) {
	c := New(mustKeyring(t, "k1", map[string][]byte{"k1": key(1)}))
	h := testServer(t, c)
	orig, err := converter.GetDefaultDataConverter().ToPayload(job{Name: sentinel})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encode([]*commonpb.Payload{orig})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ path, ns string }{{"/default/decode", ""}, {"/decode", "default"}} {
		w := post(t, h, tc.path, tc.ns, enc)
		if w.Code != http.StatusOK {
			t.Fatalf("POST %s: status %d: %s", tc.path, w.Code, w.Body)
		}
		if w.Header().Get("Access-Control-Allow-Origin") != uiOrigin {
			t.Errorf("POST %s: no Allow-Origin on the response", tc.path)
		}
		got := decodeBody(t, w)
		if len(got) != 1 || !proto.Equal(got[0], orig) {
			t.Errorf("POST %s = %v, want %v", tc.path, got, orig)
		}
	}

	// /encode gives a payload the codec itself decodes.
	w := post(t, h, "/default/encode", "", []*commonpb.Payload{orig})
	if w.Code != http.StatusOK {
		t.Fatalf("POST /default/encode: status %d: %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), base64.StdEncoding.EncodeToString(orig.Data)) {
		t.Error("encode response holds the plaintext")
	}
	dec, err := c.Decode(decodeBody(t, w))
	if err != nil || !proto.Equal(dec[0], orig) {
		t.Errorf("decode of /encode result = %v, %v", dec, err)
	}
}

func TestServerRejects(t *testing.T) {
	c := New(mustKeyring(t, "k1", map[string][]byte{"k1": key(1)}))
	h := testServer(t, c)
	p := []*commonpb.Payload{{Data: []byte("x")}}

	for _, tc := range []struct {
		name, path, ns string
		want           int
	}{
		{"namespace in path not listed", "/other/decode", "", http.StatusForbidden},
		{"namespace in header not listed", "/decode", "other", http.StatusForbidden},
		{"header disagrees with listed path", "/default/decode", "other", http.StatusForbidden},
		{"no namespace", "/decode", "", http.StatusForbidden},
		{"unknown route", "/default/download", "", http.StatusNotFound},
		{"too deep", "/a/b/decode", "", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := post(t, h, tc.path, tc.ns, p)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/default/decode", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET status %d, want 405", w.Code)
	}

	// Without a namespace list any namespace, or none, is served.
	open := Server(c, ServerOptions{})
	if w := post(t, open, "/anything/decode", "", p); w.Code != http.StatusOK {
		t.Errorf("open server: status %d: %s", w.Code, w.Body)
	}
	if w := post(t, open, "/decode", "", p); w.Code != http.StatusOK {
		t.Errorf("open server, no namespace: status %d: %s", w.Code, w.Body)
	}
}
