package ledger

import "github.com/spendops/spendops/internal/store"

// Component is the name the ledger's migrations are recorded under.
const Component = "ledger"

// Schema notes (other components may read these tables with SQL):
//
//   - ts is TEXT in one fixed-width UTC layout, "2006-01-02T15:04:05.000000000Z"
//     (see [TSLayout]), so text order is time order, substr(ts,1,10) is the
//     UTC day, and SQLite's date functions accept it.
//   - Money columns (provider_cost, calculated_cost, total_cost_usd) and
//     audio_seconds are exact decimal TEXT, never REAL. NULL cost means
//     unknown, which is not $0. Sum them in Go with a decimal type: SQL SUM
//     would convert them to floating point.
//   - Token columns always hold the event's integers; the API shows them as
//     null when usage_source is 'none'.
//   - Dimensions are kept twice: as a JSON object in the event row (read back
//     with the event) and in a side table keyed (key, value, ts, request_id),
//     WITHOUT ROWID. A dim.team=search filter is then one index range scan
//     already in (ts, request_id) order, so a page of it costs a seek plus
//     LIMIT rows however large the table is; further dim filters are point
//     lookups in the same primary key. JSON plus generated columns would
//     need a column per dimension key, and keys are user-defined.
var migrations = []store.Migration{
	{Version: 1, SQL: `
CREATE TABLE usage_events (
	request_id            TEXT PRIMARY KEY,
	ts                    TEXT NOT NULL,
	env                   TEXT NOT NULL,
	tenant_id             TEXT NOT NULL,
	api_key_id            TEXT NOT NULL,
	provider              TEXT NOT NULL,
	method                TEXT NOT NULL,
	endpoint              TEXT NOT NULL,
	endpoint_class        TEXT NOT NULL,
	model                 TEXT NOT NULL,
	response_model        TEXT NOT NULL,
	generation_id         TEXT NOT NULL,
	service_tier          TEXT NOT NULL,
	stream                INTEGER NOT NULL,
	stream_usage_injected INTEGER NOT NULL,
	outcome               TEXT NOT NULL,
	usage_source          TEXT NOT NULL,
	http_status           INTEGER NOT NULL,
	dims                  TEXT NOT NULL,
	prompt_tokens           INTEGER NOT NULL,
	completion_tokens       INTEGER NOT NULL,
	total_tokens            INTEGER NOT NULL,
	cache_read_tokens       INTEGER NOT NULL,
	cache_write_tokens      INTEGER NOT NULL,
	cache_write_5m_tokens   INTEGER NOT NULL,
	cache_write_1h_tokens   INTEGER NOT NULL,
	reasoning_tokens        INTEGER NOT NULL,
	prompt_audio_tokens     INTEGER NOT NULL,
	prompt_image_tokens     INTEGER NOT NULL,
	completion_audio_tokens INTEGER NOT NULL,
	completion_image_tokens INTEGER NOT NULL,
	web_search_requests   INTEGER NOT NULL,
	image_count           INTEGER NOT NULL,
	image_size            TEXT NOT NULL,
	image_quality         TEXT NOT NULL,
	audio_seconds         TEXT NOT NULL,
	input_characters      INTEGER NOT NULL,
	provider_cost         TEXT,
	calculated_cost       TEXT,
	total_cost_usd        TEXT,
	cost_source           TEXT NOT NULL,
	pricing_matched       INTEGER NOT NULL,
	pricing_model         TEXT NOT NULL,
	pricing_version       TEXT NOT NULL,
	prompt_chars          INTEGER NOT NULL,
	completion_chars      INTEGER NOT NULL,
	completion_bytes      INTEGER NOT NULL,
	started_at_ms         INTEGER NOT NULL,
	first_byte_at_ms      INTEGER NOT NULL,
	ended_at_ms           INTEGER NOT NULL,
	raw_usage             TEXT,
	inserted_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
	costs_updated_at      TEXT
);
CREATE INDEX usage_events_ts ON usage_events(ts, request_id);
CREATE INDEX usage_events_key ON usage_events(api_key_id, ts, request_id);
CREATE INDEX usage_events_provider ON usage_events(provider, ts, request_id);
CREATE INDEX usage_events_model ON usage_events(model, ts, request_id);
CREATE INDEX usage_events_unpriced ON usage_events(provider, model) WHERE cost_source = 'none' AND pricing_matched = 0;

CREATE TABLE event_dims (
	key        TEXT NOT NULL,
	value      TEXT NOT NULL,
	ts         TEXT NOT NULL,
	request_id TEXT NOT NULL,
	PRIMARY KEY (key, value, ts, request_id)
) WITHOUT ROWID;

-- One row per UpdateCosts change: the costs an event had before re-pricing.
CREATE TABLE event_cost_history (
	request_id      TEXT NOT NULL,
	changed_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
	provider_cost   TEXT,
	calculated_cost TEXT,
	total_cost_usd  TEXT,
	cost_source     TEXT NOT NULL,
	pricing_matched INTEGER NOT NULL,
	pricing_model   TEXT NOT NULL,
	pricing_version TEXT NOT NULL
);
CREATE INDEX event_cost_history_request ON event_cost_history(request_id, changed_at);

CREATE TABLE denial_events (
	request_id  TEXT PRIMARY KEY,
	ts          TEXT NOT NULL,
	type        TEXT NOT NULL,
	reason      TEXT NOT NULL,
	http_status INTEGER NOT NULL,
	tenant_id   TEXT NOT NULL,
	api_key_id  TEXT NOT NULL,
	provider    TEXT NOT NULL,
	path        TEXT NOT NULL,
	dims        TEXT NOT NULL,
	inserted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX denial_events_ts ON denial_events(ts, request_id);
CREATE INDEX denial_events_key ON denial_events(api_key_id, ts, request_id);
CREATE INDEX denial_events_provider ON denial_events(provider, ts, request_id);

CREATE TABLE denial_dims (
	key        TEXT NOT NULL,
	value      TEXT NOT NULL,
	ts         TEXT NOT NULL,
	request_id TEXT NOT NULL,
	PRIMARY KEY (key, value, ts, request_id)
) WITHOUT ROWID;
`},
}
