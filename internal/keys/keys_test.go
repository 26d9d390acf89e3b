package keys

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/spendops/spendops/internal/store"
)

func TestParse(t *testing.T) {
	_, k, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, id string
		ok      bool
	}{
		{k, k[len(Prefix) : len(Prefix)+16], true},
		{"aso_k_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5", "01ARZ3NDEK", true},
		{"aso_k_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5+/==", "01ARZ3NDEK", true},
		{"aso_k_.dGhpcyBpcyBhIHRlc3Qga2V5", "", false},
		{"aso_k_01ARZ3NDEK", "", false},
		{"aso_k_01ARZ3NDEK.short", "", false},
		{"ASO_K_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5", "", false},
		{"aso_k_01AR-3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5", "", false},
		{"aso_k_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5 ", "", false},
		{"aso_k_01ARZ3NDEK.dGhpcyBpcyBh\x00HRlc3Qga2V5", "", false},
		{"aso_k_" + strings.Repeat("A", 65) + ".dGhpcyBpcyBhIHRlc3Qga2V5", "", false},
		{"aso_k_A." + strings.Repeat("a", 257), "", false},
		{"Bearer sk-x", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		id, err := Parse(tt.key)
		if (err == nil) != tt.ok || id != tt.id {
			t.Errorf("Parse(%q) = %q, %v; want %q ok=%v", tt.key, id, err, tt.id, tt.ok)
		}
	}
}

func TestGenerateEntropy(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id, k, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		secret := k[strings.IndexByte(k, '.')+1:]
		if len(secret) < 43 || seen[id] || seen[secret] { // 43 base64 chars = 256 bits
			t.Fatalf("weak or repeated key %q", k)
		}
		seen[id], seen[secret] = true, true
	}
}

func FuzzParse(f *testing.F) {
	f.Add("aso_k_01ARZ3NDEK.dGhpcyBpcyBhIHRlc3Qga2V5")
	f.Add("aso_k_x.y")
	f.Add("aso_k_\xff.aaaaaaaaaaaaaaaaaaaa")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(s, Prefix+id+".") || id == "" {
			t.Fatalf("Parse(%q) id %q not the key's id", s, id)
		}
		for _, c := range []byte(s) {
			if c < 0x21 || c > 0x7e {
				t.Fatalf("accepted non-printable byte in %q", s)
			}
		}
	})
}

func newTestStore(t *testing.T) *Store {
	t.Helper()
	db, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := NewStore(t.Context(), db, bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreNeverHoldsKey(t *testing.T) {
	s := newTestStore(t)
	_, full, err := s.Create(t.Context(), CreateInput{Name: "a", Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	secret := full[strings.IndexByte(full, '.')+1:]
	if err := s.db.QueryRow(`SELECT count(*) FROM api_keys WHERE instr(hash, ?) > 0 OR instr(policy, ?) > 0 OR instr(name, ?) > 0`, secret, secret, secret).Scan(&n); err != nil || n != 0 {
		t.Fatalf("secret found in store: %d, %v", n, err)
	}
}

// Rotation: during the grace period both secrets work; after it only the
// new one; the audit log shows each step.
func TestRotationGrace(t *testing.T) {
	s := newTestStore(t)
	k, oldKey, err := s.Create(t.Context(), CreateInput{Name: "a", Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCache(t.Context(), s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c.now = func() time.Time { return now }
	newKey, err := s.Rotate(t.Context(), k.ID, time.Hour, "t")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(newKey, Prefix+k.ID+".") || newKey == oldKey {
		t.Fatalf("rotated key %q keeps id %s?", newKey, k.ID)
	}
	for _, key := range []string{oldKey, newKey} {
		if _, err := c.Authenticate(key); err != nil {
			t.Fatalf("during grace: %v", err)
		}
	}
	now = now.Add(61 * time.Minute)
	if _, err := c.Authenticate(oldKey); err != ErrUnknown {
		t.Fatalf("old key after grace: %v", err)
	}
	if _, err := c.Authenticate(newKey); err != nil {
		t.Fatalf("new key after grace: %v", err)
	}
	// Zero grace: the old secret stops at once.
	newer, err := s.Rotate(t.Context(), k.ID, 0, "t")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(refreshGap)
	if _, err := c.Authenticate(newer); err != nil {
		t.Fatalf("newest key: %v", err)
	}
	if _, err := c.Authenticate(newKey); err != ErrUnknown {
		t.Fatalf("previous key after zero-grace rotation: %v", err)
	}
	if err := s.SetActive(t.Context(), k.ID, false, "t"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPolicy(t.Context(), k.ID, Policy{Providers: []string{"openai"}}, "t"); err != nil {
		t.Fatal(err)
	}
	es, err := s.Audit(t.Context(), k.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "create,rotate,rotate,deactivate,policy_change" {
		t.Fatalf("audit = %s", got)
	}
	if strings.Contains(string(es[0].Detail), oldKey) {
		t.Fatal("audit holds the key")
	}
}

// Many concurrent first requests with a key created a moment ago all
// succeed: the ones that miss wait for the single refresh, they do not fail.
func TestConcurrentFirstUseOfNewKey(t *testing.T) {
	s := newTestStore(t)
	c, err := NewCache(t.Context(), s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, full, err := s.Create(t.Context(), CreateInput{Name: "new"})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 100)
	start := make(chan struct{})
	for i := 0; i < 100; i++ {
		go func() {
			<-start
			_, err := c.Authenticate(full)
			errs <- err
		}()
	}
	close(start)
	for i := 0; i < 100; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent first use: %v", err)
		}
	}
}
