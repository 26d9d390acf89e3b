package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Messages of the hosted product's error table (decisions.md), verbatim.
const (
	msgMissingKey      = "Missing X-ASO-API-Key"
	msgInvalidKey      = "Invalid X-ASO-API-Key"
	msgInactiveKey     = "API key is inactive"
	msgProviderBlocked = "Provider not allowed by API key policy"
	msgModelBlocked    = "Model not allowed by API key policy"
	msgUnknownProvider = "Unknown provider"
	msgUpstreamFailed  = "Upstream fetch failed"
	msgInvalidPath     = "Invalid path"
	msgNotFound        = "Not found"
)

// writeError writes {"error":"AISpendOps: <msg>"}. The request id header is
// already set by the caller.
func writeError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{"AISpendOps: " + msg})
	body := string(b) + "\n"
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
