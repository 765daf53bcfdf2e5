// Package codec encrypts Temporal payloads so that workflow inputs, results
// and failure messages (Spark confs, arguments, error texts) are stored in
// Temporal's history only as ciphertext, and serves the codec endpoint the
// Temporal UI and CLI call to show them decrypted.
//
// Payloads are sealed with AES-256-GCM, as in Temporal's samples-go
// encryption sample: the whole original payload is proto-marshalled and
// encrypted, with a random 12-byte nonce in front of the ciphertext; the new
// payload has metadata "encoding: binary/encrypted" and
// "encryption-key-id: <id>". Payloads that are not encrypted pass through
// Decode, so histories written before encryption still replay.
//
// Keys come from a directory laid out as a mounted Kubernetes Secret (see
// LoadDir), for example /etc/kindling/keys:
//
//	k2       32 raw bytes, or their base64
//	k1       an older key, kept to decrypt old payloads
//	active   "k2": the key new payloads are encrypted with
//
// or, for development, from "id1:base64key1,id2:base64key2" (see FromEnv).
// To rotate: add a key, point "active" at it, and keep the old files for as
// long as histories encrypted with them are read.
package codec

import (
	"crypto/rand"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// EncodingEncrypted is the "encoding" metadata value of encrypted payloads.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID is the metadata key holding the id of the key a payload
	// was encrypted with.
	MetadataKeyID = "encryption-key-id"
)

const nonceSize = 12 // GCM standard nonce

// Codec is a converter.PayloadCodec that encrypts payloads with the
// keyring's active key and decrypts them with whichever key they name.
type Codec struct {
	keys *Keyring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a Codec using keys.
func New(keys *Keyring) *Codec { return &Codec{keys: keys} }

// Keyring returns the codec's keys.
func (c *Codec) Keyring() *Keyring { return c.keys }

// Encode implements converter.PayloadCodec.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.keys.active
	aead := c.keys.aeads[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("payload %d: marshal: %w", i, err)
		}
		nonce := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("payload %d: nonce: %w", i, err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(id),
			},
			Data: aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec. Payloads whose encoding is not
// binary/encrypted are returned as they are.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		idBytes, ok := p.GetMetadata()[MetadataKeyID]
		if !ok {
			return nil, fmt.Errorf("payload %d: encrypted payload has no %s metadata", i, MetadataKeyID)
		}
		id := string(idBytes)
		aead, ok := c.keys.aeads[id]
		if !ok {
			return nil, fmt.Errorf("payload %d: encryption key id %q is not in the keyring (have %s)", i, id, strings.Join(c.keys.IDs(), ", "))
		}
		data := p.GetData()
		if len(data) < nonceSize+aead.Overhead() {
			return nil, fmt.Errorf("payload %d: encrypted data is %d bytes, shorter than nonce and tag", i, len(data))
		}
		plain, err := aead.Open(nil, data[:nonceSize], data[nonceSize:], nil)
		if err != nil {
			return nil, fmt.Errorf("payload %d: decrypt with key %q: %w", i, id, err)
		}
		orig := &commonpb.Payload{}
		if err := proto.Unmarshal(plain, orig); err != nil {
			return nil, fmt.Errorf("payload %d: unmarshal decrypted payload: %w", i, err)
		}
		out[i] = orig
	}
	return out, nil
}

// DataConverter returns the default data converter with c applied to every
// payload. Worker, CLI, controller and replayer should all use it.
func DataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter returns a failure converter that moves failure messages
// and stack traces into an encoded payload (EncodeCommonAttributes), so they
// are encrypted too when dc is DataConverter's result.
//
// It decodes a copy of the failure it is given: Temporal's default converter
// decodes in place, and the Go SDK records a local activity's failure in its
// marker event after decoding it, which would put the message back into
// history in clear text.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return copyingFailureConverter{temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})}
}

type copyingFailureConverter struct{ converter.FailureConverter }

func (c copyingFailureConverter) FailureToError(f *failurepb.Failure) error {
	if f == nil {
		return nil
	}
	return c.FailureConverter.FailureToError(proto.Clone(f).(*failurepb.Failure))
}
