package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// KeySize is the length of every key: AES-256.
const KeySize = 32

// ActiveFile is the name of the file in a key directory that holds the id of
// the key new payloads are encrypted with.
const ActiveFile = "active"

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Keyring holds one active key, used to encrypt, and older keys kept so that
// payloads written before a rotation still decrypt. It is immutable and safe
// for concurrent use.
type Keyring struct {
	active string
	aeads  map[string]cipher.AEAD
}

// NewKeyring builds a keyring from raw 32-byte keys by id; active names the
// key used to encrypt.
func NewKeyring(active string, keys map[string][]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("keyring: no keys")
	}
	k := &Keyring{active: active, aeads: make(map[string]cipher.AEAD, len(keys))}
	for id, key := range keys {
		if err := checkID(id); err != nil {
			return nil, err
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("key %q: want %d bytes (AES-256), got %d bytes", id, KeySize, len(key))
		}
		aead, err := newAEAD(key)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		k.aeads[id] = aead
	}
	if _, ok := k.aeads[active]; !ok {
		return nil, fmt.Errorf("keyring: active key %q is not among the keys (%s)", active, strings.Join(k.IDs(), ", "))
	}
	return k, nil
}

// ActiveID returns the id of the key used to encrypt.
func (k *Keyring) ActiveID() string { return k.active }

// IDs returns the ids of all keys, sorted.
func (k *Keyring) IDs() []string {
	ids := make([]string, 0, len(k.aeads))
	for id := range k.aeads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// LoadDir reads keys from a directory laid out as a mounted Kubernetes
// Secret: one file per key, the file name is the key id, the content is
// 32 raw bytes or their standard base64 (a trailing newline is fine). The
// file "active" holds the id of the key to encrypt with; it may be left out
// when there is exactly one key. Names starting with "." (the Secret
// volume's ..data links) and directories are skipped.
func LoadDir(dir string) (*Keyring, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("key dir: %w", err)
	}
	keys := map[string][]byte{}
	active := ""
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path) // follows the Secret volume's symlinks
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		if fi.IsDir() {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		if name == ActiveFile {
			active = strings.TrimSpace(string(b))
			if err := checkID(active); err != nil {
				return nil, fmt.Errorf("active file %s: %w", path, err)
			}
			continue
		}
		if err := checkID(name); err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		key, err := parseKey(b)
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		keys[name] = key
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("key dir %s: no key files", dir)
	}
	if active == "" {
		if len(keys) != 1 {
			return nil, fmt.Errorf("key dir %s: %d keys and no %q file naming the one to encrypt with", dir, len(keys), ActiveFile)
		}
		for id := range keys {
			active = id
		}
	}
	if _, ok := keys[active]; !ok {
		return nil, fmt.Errorf("active file %s: names key %q, which has no file in %s", filepath.Join(dir, ActiveFile), active, dir)
	}
	return NewKeyring(active, keys)
}

// FromEnv parses "id1:base64key1,id2:base64key2", as set in an environment
// variable for development. The first key is the active one.
func FromEnv(value string) (*Keyring, error) {
	keys := map[string][]byte{}
	active := ""
	for i, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, b64, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("keys entry %d: want id:base64key", i+1)
		}
		if err := checkID(id); err != nil {
			return nil, fmt.Errorf("keys entry %d: %w", i+1, err)
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("keys entry %d: key id %q given twice", i+1, id)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("keys entry %d (%q): key is not standard base64", i+1, id)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("keys entry %d (%q): base64 decodes to %d bytes, want %d (AES-256)", i+1, id, len(key), KeySize)
		}
		keys[id] = key
		if active == "" {
			active = id
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("keys: empty, want id:base64key[,id:base64key...]")
	}
	return NewKeyring(active, keys)
}

// parseKey accepts 32 raw bytes or their standard base64, with surrounding
// whitespace. It never puts key material in its errors.
func parseKey(b []byte) ([]byte, error) {
	if len(b) == KeySize {
		return b, nil
	}
	text := strings.TrimSpace(string(b))
	key, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(text) == 0 {
		return nil, fmt.Errorf("want %d bytes (AES-256) or their base64, got %d bytes", KeySize, len(b))
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("base64 decodes to %d bytes, want %d (AES-256)", len(key), KeySize)
	}
	return key, nil
}

func checkID(id string) error {
	if !keyIDPattern.MatchString(id) {
		return fmt.Errorf("key id %q must match [A-Za-z0-9._-]+", id)
	}
	if id == ActiveFile {
		return fmt.Errorf("key id %q is reserved for the file naming the active key", id)
	}
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
