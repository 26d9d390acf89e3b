package keys

// Policy is what a key may do. The zero value of each field means the
// documented default (see Defaults); the policy package enforces it.
type Policy struct {
	// Providers is the provider allow-list; ["*"] or empty allows all.
	Providers []string `json:"providers"`
	// Models is the model allow-list of patterns `*`, `provider:exact`,
	// `provider:prefix*`; ["*"] or empty allows all.
	Models []string `json:"models"`
	// Dims is the dimensions policy.
	Dims DimsPolicy `json:"dims"`
}

// DimsPolicy governs X-ASO-Dims for one key.
type DimsPolicy struct {
	// Required rejects requests without X-ASO-Dims.
	Required bool `json:"required"`
	// Allowed keys; nil means the default team, env, app; ["*"] allows any.
	Allowed []string `json:"allowed,omitempty"`
	// MaxPairs, MaxKeyLen, MaxValueLen: 0 means the default 8, 32, 64.
	MaxPairs    int `json:"max_pairs,omitempty"`
	MaxKeyLen   int `json:"max_key_len,omitempty"`
	MaxValueLen int `json:"max_value_len,omitempty"`
	// Pinned dimensions are always recorded; a request sending another value
	// for a pinned key is rejected.
	Pinned map[string]string `json:"pinned,omitempty"`
	// Defaults are recorded when the request omits that key.
	Defaults map[string]string `json:"defaults,omitempty"`
}

// Documented defaults of the dimensions policy.
var (
	DefaultAllowedDims = []string{"team", "env", "app"}
)

// Dimension-policy numeric defaults.
const (
	DefaultMaxPairs    = 8
	DefaultMaxKeyLen   = 32
	DefaultMaxValueLen = 64
)
