package pricing

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HandlerConfig configures NewHandler. Engine and Store are required.
// Events, when set, lets the handler re-price unpriced events right after
// an override is added (the automatic re-price of decisions.md).
type HandlerConfig struct {
	Engine *Engine
	Store  *Store
	Events EventStore
	Logger *slog.Logger
}

// NewHandler serves the pricing admin API (the caller mounts it under the
// admin API's authentication):
//
//	GET    /api/v1/pricing                  current prices, versions, expense bounds; ?provider=, ?diff=FROM..TO
//	GET    /api/v1/pricing/models/{model}   one model (all periods) per provider; ?provider=
//	GET    /api/v1/pricing/overrides        current overrides and their version
//	POST   /api/v1/pricing/overrides        add an override (JSON Override)
//	DELETE /api/v1/pricing/overrides/{id}   retire an override
func NewHandler(cfg HandlerConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/pricing", h.list)
	mux.HandleFunc("GET /api/v1/pricing/models/{model...}", h.model)
	mux.HandleFunc("GET /api/v1/pricing/overrides", h.overrides)
	mux.HandleFunc("POST /api/v1/pricing/overrides", h.addOverride)
	mux.HandleFunc("DELETE /api/v1/pricing/overrides/{id}", h.deleteOverride)
	return mux
}

type handler struct{ cfg HandlerConfig }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": "AISpendOps: " + msg})
}

// ModelView is one model in API answers.
type ModelView struct {
	Provider   string   `json:"provider"`
	Model      string   `json:"model"`
	Kind       string   `json:"kind,omitempty"`
	Source     string   `json:"source"`
	Provenance string   `json:"provenance,omitempty"`
	Aliases    []string `json:"aliases,omitempty"`
	Current    *Period  `json:"current"`
	Prices     []Period `json:"prices,omitempty"`
	Expense    *Expense `json:"expense,omitempty"`
}

func view(pm ProviderModel, rk *Ranking, at time.Time, full bool) ModelView {
	v := ModelView{Provider: pm.Provider, Model: pm.Model.ID, Kind: pm.Model.Kind, Source: pm.Model.Source,
		Current: periodAt(pm.Model, at)}
	if e, ok := rk.Of(pm.Model); ok {
		v.Expense = &e
	}
	if full {
		v.Provenance, v.Aliases, v.Prices = pm.Model.Provenance, pm.Model.Aliases, pm.Model.Prices
	}
	return v
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cat := h.cfg.Engine.Catalog()
	now := time.Now()
	if d := r.URL.Query().Get("diff"); d != "" {
		from, to, ok := strings.Cut(d, "..")
		if !ok || from == "" {
			writeErr(w, http.StatusBadRequest, "diff must be FROM..TO")
			return
		}
		a, err := h.cfg.Store.Catalog(ctx, from)
		if err != nil {
			writeErr(w, statusOf(err), err.Error())
			return
		}
		b := cat
		if to != "" {
			if b, err = h.cfg.Store.Catalog(ctx, to); err != nil {
				writeErr(w, statusOf(err), err.Error())
				return
			}
		}
		writeJSON(w, http.StatusOK, DiffCatalogs(a, b, now))
		return
	}
	versions, err := h.cfg.Store.Versions(ctx)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	rk := Rank(cat, now)
	prov := r.URL.Query().Get("provider")
	models := []ModelView{}
	for _, pm := range cat.Models() {
		if prov == "" || pm.Provider == prov {
			models = append(models, view(pm, rk, now, false))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"version": cat.Version(), "source": cat.Source(), "versions": versions,
		"overrides_version": h.cfg.Engine.Overrides().Version(),
		"expense_bounds":    map[string]any{"budget_max": rk.Lower, "premium_min": rk.Upper, "warn_from": rk.WarnAt, "warn_factor": WarnFactor},
		"models":            models,
		"unpriced":          h.cfg.Engine.Unpriced(),
	})
}

func (h *handler) model(w http.ResponseWriter, r *http.Request) {
	cat := h.cfg.Engine.Catalog()
	name := r.PathValue("model")
	now := time.Now()
	rk := Rank(cat, now)
	prov := r.URL.Query().Get("provider")
	out := []ModelView{}
	for _, pf := range cat.Files() {
		if prov != "" && pf.Provider != prov {
			continue
		}
		if m, p := cat.resolve(pf.Provider, name); m != nil && p == pf.Provider {
			out = append(out, view(ProviderModel{Provider: p, Model: m}, rk, now, true))
		}
	}
	if len(out) == 0 {
		writeErr(w, http.StatusNotFound, "no price for model "+name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": cat.Version(), "models": out})
}

func (h *handler) overrides(w http.ResponseWriter, r *http.Request) {
	set, err := h.cfg.Store.Overrides(r.Context())
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	items := set.Items()
	if items == nil {
		items = []Override{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": set.Version(), "overrides": items})
}

func (h *handler) addOverride(w http.ResponseWriter, r *http.Request) {
	var o Override
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid override JSON: "+err.Error())
		return
	}
	o.ID = 0
	saved, err := h.cfg.Store.AddOverride(r.Context(), o)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err.Error())
		return
	}
	repriced, err := h.reload(r)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"override": saved, "version": h.cfg.Engine.Overrides().Version(), "repriced": repriced})
}

func (h *handler) deleteOverride(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "invalid override id")
		return
	}
	if err := h.cfg.Store.DeleteOverride(r.Context(), id); err != nil {
		writeErr(w, statusOf(err), err.Error())
		return
	}
	if _, err := h.reload(r); err != nil {
		writeErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// reload installs the stored overrides in the engine and, with an event
// store, re-prices unpriced events that the change may now price.
func (h *handler) reload(r *http.Request) (int, error) {
	set, err := h.cfg.Store.Overrides(r.Context())
	if err != nil {
		return 0, err
	}
	h.cfg.Engine.SetOverrides(set)
	if h.cfg.Events == nil {
		return 0, nil
	}
	res, err := Reprice(r.Context(), h.cfg.Events, h.cfg.Engine, h.cfg.Store, RepriceOptions{UnpricedOnly: true})
	if err != nil {
		h.cfg.Logger.Error("re-price after override change", "err", err)
		return 0, err
	}
	return res.Changed, nil
}

func statusOf(err error) int {
	if errors.Is(err, ErrNotFound) {
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}
