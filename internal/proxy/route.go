package proxy

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Route errors. Each maps to one documented response.
var (
	errNotProxyPath    = errors.New("not a proxy path")
	errUnknownProvider = errors.New("unknown provider")
	errInvalidPath     = errors.New("invalid path")
)

// rawPath returns the path exactly as the client sent it (still escaped),
// so that what goes upstream is verbatim.
func rawPath(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' { // absolute-form, or a request built in-process
		return r.URL.EscapedPath()
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return uri
}

// splitRoute splits /v1/{provider}{rest} into the provider segment and the
// escaped rest, which is empty or starts with "/".
func splitRoute(path string) (name, rest string, err error) {
	const prefix = "/v1/"
	if !strings.HasPrefix(path, prefix) {
		if path == "/v1" {
			return "", "", errUnknownProvider
		}
		return "", "", errNotProxyPath
	}
	s := path[len(prefix):]
	name, rest = s, ""
	if i := strings.IndexByte(s, '/'); i >= 0 {
		name, rest = s[:i], s[i:]
	}
	if name == "" {
		return "", "", errUnknownProvider
	}
	return name, rest, nil
}

// checkRest rejects any path that could change the upstream host or leave
// the provider's base path once joined, decoded or normalised by any hop
// between us and the provider: dot segments (plain or percent-encoded),
// encoded slashes and backslashes, double slashes (a "//host" authority),
// userinfo markers, NUL and other control bytes, and double encoding.
// Legitimate provider paths never need any of these.
func checkRest(rest string) error {
	if rest == "" {
		return nil
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c < 0x20 || c == 0x7f || c == '\\' || c == '@' || c >= 0x80 {
			return errInvalidPath
		}
	}
	if strings.Contains(rest, "//") {
		return errInvalidPath
	}
	lower := strings.ToLower(rest)
	for _, bad := range []string{"%2e", "%2f", "%5c", "%00", "%25", "%40"} {
		if strings.Contains(lower, bad) {
			return errInvalidPath
		}
	}
	dec, err := url.PathUnescape(rest)
	if err != nil {
		return errInvalidPath
	}
	for _, seg := range strings.Split(dec, "/") {
		if seg == "." || seg == ".." {
			return errInvalidPath
		}
		for i := 0; i < len(seg); i++ {
			if seg[i] < 0x20 || seg[i] == 0x7f || seg[i] == '\\' {
				return errInvalidPath
			}
		}
	}
	return nil
}
