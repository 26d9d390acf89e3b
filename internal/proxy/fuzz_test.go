package proxy

import (
	"net/url"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/provider"
)

// FuzzUpstreamURL: whatever path a client sends, an accepted path keeps the
// provider's scheme and host and stays under its base path.
func FuzzUpstreamURL(f *testing.F) {
	for _, p := range escapePaths {
		f.Add("openai", p)
	}
	f.Add("groq", "/v1/chat/completions")
	f.Add("deepinfra", "/v1/../x")
	f.Add("zai", "/%2e%2e")
	reg, err := provider.New(nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, rest string) {
		p, ok := reg.Lookup(name)
		if !ok {
			p, _ = reg.Lookup("openai")
		}
		if !strings.HasPrefix(rest, "/") {
			rest = "/" + rest
		}
		if checkRest(rest) != nil {
			return
		}
		u, err := upstreamURL(p, rest, "")
		if err != nil {
			return
		}
		s := u.String()
		back, err := url.Parse(s)
		if err != nil {
			t.Fatalf("accepted %q gives unparsable %q", rest, s)
		}
		if back.Scheme != p.BaseURL.Scheme || back.Host != p.BaseURL.Host {
			t.Fatalf("accepted %q changes host: %q", rest, s)
		}
		if !strings.HasPrefix(back.Path, p.BaseURL.Path) {
			t.Fatalf("accepted %q leaves base path: %q", rest, back.Path)
		}
		for _, seg := range strings.Split(back.Path, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("accepted %q has dot segment: %q", rest, back.Path)
			}
		}
	})
}
