package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGoodFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	if len(files) == 0 {
		t.Fatal("no good files")
	}
	for _, f := range files {
		c := Default()
		if err := c.LoadFile(f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	c := Default()
	_ = c.LoadFile("testdata/complete.good.yaml")
	if c.Proxy.ResponseHeaderTimeout.Duration != 15*time.Minute || c.Log.Access == nil || *c.Log.Access || len(c.Providers) != 3 {
		t.Fatalf("complete.good.yaml loaded as %+v", c)
	}
}

// Each bad file fails with an error naming the field.
func TestBadFiles(t *testing.T) {
	want := map[string]string{
		"unknown-field":    "adress",
		"addr":             "addr",
		"duration":         "soon",
		"negative-drain":   "proxy.drain_timeout",
		"log-level":        "log.level",
		"upstream-unknown": `upstream override "nosuch"`,
		"upstream-scheme":  "provider openai: base_url",
		"provider-name":    "providers[0].name",
		"provider-dialect": "providers[0].dialect",
		"provider-alias":   "providers[0].name",
		"admin-token":      "admin_token",
		"queue":            "pipeline.queue_size",
		"syntax":           "yaml",
		"sync-url":         "pricing.sync.url",
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) != len(want) {
		t.Fatalf("%d bad files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bad.yaml")
		c := Default()
		err := c.LoadFile(f)
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), want[name]) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, want[name])
		}
	}
	if err := (&Config{}).LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
