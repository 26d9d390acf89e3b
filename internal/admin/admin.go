package admin

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spendops/spendops/internal/keys"
)

// Config wires the admin API.
type Config struct {
	Token  *Token
	Keys   *keys.Store
	Logger *slog.Logger
	// ValidatePolicy rejects invalid key policies; nil accepts any.
	ValidatePolicy func(keys.Policy) error
	// Mounts are extra handlers by path prefix (e.g. "/api/v1/events"),
	// served behind the same token.
	Mounts map[string]http.Handler
}

// Handler serves /api/v1/.
type Handler struct {
	cfg Config
	mux *http.ServeMux
}

// New builds the admin handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Token == nil || cfg.Keys == nil || cfg.Logger == nil {
		return nil, errors.New("admin: Token, Keys and Logger are required")
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /api/v1/keys", h.listKeys)
	h.mux.HandleFunc("POST /api/v1/keys", h.createKey)
	h.mux.HandleFunc("GET /api/v1/keys/{id}", h.getKey)
	h.mux.HandleFunc("PATCH /api/v1/keys/{id}", h.patchKey)
	h.mux.HandleFunc("DELETE /api/v1/keys/{id}", h.deleteKey)
	h.mux.HandleFunc("POST /api/v1/keys/{id}/rotate", h.rotateKey)
	h.mux.HandleFunc("GET /api/v1/audit", h.audit)
	for prefix, mh := range cfg.Mounts {
		h.mux.Handle(prefix, mh)
		if !strings.HasSuffix(prefix, "/") {
			h.mux.Handle(prefix+"/", mh)
		}
	}
	return h, nil
}

// ServeHTTP checks the bearer token, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || !h.cfg.Token.Verify(strings.TrimSpace(tok)) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="spendops-admin"`)
		WriteError(w, http.StatusUnauthorized, "admin token required (Authorization: Bearer <token>)")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// WriteError writes {"error":"AISpendOps: msg"}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": "AISpendOps: " + msg})
}

func actor(r *http.Request) string {
	if a := r.Header.Get("X-ASO-Actor"); a != "" && len(a) <= 200 {
		return "admin-api:" + a
	}
	return "admin-api"
}

func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := h.cfg.Keys.List(r.Context())
	if err != nil {
		h.internal(w, err)
		return
	}
	if ks == nil {
		ks = []*keys.Key{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"keys": ks})
}

func (h *Handler) getKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.cfg.Keys.Get(r.Context(), r.PathValue("id"))
	if h.keyErr(w, err) {
		return
	}
	WriteJSON(w, http.StatusOK, k)
}

// CreateKeyRequest is the POST /api/v1/keys body.
type CreateKeyRequest struct {
	Name   string       `json:"name"`
	Tenant string       `json:"tenant"`
	Policy *keys.Policy `json:"policy"`
}

func (h *Handler) createKey(w http.ResponseWriter, r *http.Request) {
	var in CreateKeyRequest
	if !decode(w, r, &in) {
		return
	}
	var p keys.Policy
	if in.Policy != nil {
		p = *in.Policy
	}
	if h.cfg.ValidatePolicy != nil {
		if err := h.cfg.ValidatePolicy(p); err != nil {
			WriteError(w, http.StatusBadRequest, "policy: "+err.Error())
			return
		}
	}
	k, full, err := h.cfg.Keys.Create(r.Context(), keys.CreateInput{Name: in.Name, TenantID: in.Tenant, Policy: p, Actor: actor(r)})
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]any{"id": k.ID, "key": full, "name": k.Name, "tenant": k.TenantID, "policy": k.Policy})
}

// PatchKeyRequest is the PATCH /api/v1/keys/{id} body; absent fields are
// unchanged.
type PatchKeyRequest struct {
	Policy *keys.Policy `json:"policy"`
	Active *bool        `json:"active"`
}

func (h *Handler) patchKey(w http.ResponseWriter, r *http.Request) {
	var in PatchKeyRequest
	if !decode(w, r, &in) {
		return
	}
	id := r.PathValue("id")
	if in.Policy != nil {
		if h.cfg.ValidatePolicy != nil {
			if err := h.cfg.ValidatePolicy(*in.Policy); err != nil {
				WriteError(w, http.StatusBadRequest, "policy: "+err.Error())
				return
			}
		}
		if h.keyErr(w, h.cfg.Keys.SetPolicy(r.Context(), id, *in.Policy, actor(r))) {
			return
		}
	}
	if in.Active != nil {
		if h.keyErr(w, h.cfg.Keys.SetActive(r.Context(), id, *in.Active, actor(r))) {
			return
		}
	}
	h.getKey(w, r)
}

func (h *Handler) deleteKey(w http.ResponseWriter, r *http.Request) {
	if h.keyErr(w, h.cfg.Keys.SetActive(r.Context(), r.PathValue("id"), false, actor(r))) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		GraceSeconds int64 `json:"grace_seconds"`
	}
	if r.ContentLength != 0 && !decode(w, r, &in) {
		return
	}
	if in.GraceSeconds < 0 || in.GraceSeconds > 90*24*3600 {
		WriteError(w, http.StatusBadRequest, "grace_seconds: must be between 0 and 7776000")
		return
	}
	id := r.PathValue("id")
	full, err := h.cfg.Keys.Rotate(r.Context(), id, time.Duration(in.GraceSeconds)*time.Second, actor(r))
	if h.keyErr(w, err) {
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"id": id, "key": full, "previous_secret_valid_seconds": in.GraceSeconds})
}

func (h *Handler) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	es, err := h.cfg.Keys.Audit(r.Context(), q.Get("key_id"), after, limit)
	if err != nil {
		h.internal(w, err)
		return
	}
	if es == nil {
		es = []keys.AuditEntry{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"audit": es})
}

func (h *Handler) keyErr(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, keys.ErrNotFound):
		WriteError(w, http.StatusNotFound, "key not found")
	default:
		h.internal(w, err)
	}
	return true
}

func (h *Handler) internal(w http.ResponseWriter, err error) {
	h.cfg.Logger.Error("admin api", "err", err)
	WriteError(w, http.StatusInternalServerError, "internal error")
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}
