package codec

import (
	"fmt"
	"net/http"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// Environment variables every Kindling process reads its encryption settings from.
const (
	// EnvKeysDir is a directory of keys laid out as LoadDir reads it (a mounted Secret).
	EnvKeysDir = "KINDLING_CODEC_KEYS_DIR"
	// EnvKeys is "id:base64key[,id:base64key…]", the first active (FromEnv), for development.
	EnvKeys = "KINDLING_CODEC_KEYS"
	// EnvEndpoint is a codec server's URL: a client without the keys encodes and decodes
	// through it (`{namespace}` in it is replaced by the Temporal namespace).
	EnvEndpoint = "KINDLING_CODEC_ENDPOINT"
)

// Settings say how a process encrypts its payloads: with keys from a directory or a string,
// through a codec server, or not at all (all empty).
type Settings struct {
	KeysDir  string
	Keys     string
	Endpoint string
}

// Enabled tells whether any setting turns encryption on.
func (s Settings) Enabled() bool { return s.KeysDir != "" || s.Keys != "" || s.Endpoint != "" }

// Load reads the keys the settings name; a nil Codec (and no error) when they name none.
func (s Settings) Load() (*Codec, error) {
	switch {
	case s.KeysDir != "" && s.Keys != "":
		return nil, fmt.Errorf("give %s or %s, not both", EnvKeysDir, EnvKeys)
	case s.KeysDir != "":
		k, err := LoadDir(s.KeysDir)
		if err != nil {
			return nil, err
		}
		return New(k), nil
	case s.Keys != "":
		k, err := FromEnv(s.Keys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKeys, err)
		}
		return New(k), nil
	}
	return nil, nil
}

// Converters returns the data and failure converters for a Temporal client with these
// settings, for namespace: keys (local encryption) win over an endpoint (a codec server does
// it). Nil converters mean Temporal's defaults: no encryption.
func (s Settings) Converters(namespace string) (converter.DataConverter, converter.FailureConverter, error) {
	c, err := s.Load()
	if err != nil {
		return nil, nil, err
	}
	var dc converter.DataConverter
	switch {
	case c != nil:
		dc = DataConverter(c)
	case s.Endpoint != "":
		dc = converter.NewRemoteDataConverter(converter.GetDefaultDataConverter(), converter.RemoteDataConverterOptions{
			Endpoint:      strings.ReplaceAll(s.Endpoint, "{namespace}", namespace),
			ModifyRequest: func(r *http.Request) error { r.Header.Set("X-Namespace", namespace); return nil },
		})
	default:
		return nil, nil, nil
	}
	return dc, FailureConverter(dc), nil
}

// Apply sets a client's converters from the settings (nothing when encryption is off).
func (s Settings) Apply(o *client.Options) error {
	dc, fc, err := s.Converters(o.Namespace)
	if err != nil {
		return err
	}
	if dc != nil {
		o.DataConverter, o.FailureConverter = dc, fc
	}
	return nil
}
