package ledger

import (
	"net/url"
	"testing"
)

// FuzzParseRequest: no query string makes the parser panic, and what it
// accepts builds a query.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"", "request_id=x", "dim.team=search&dim.app=web&provider=openai", "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00%2B01:00",
		"limit=5000&order=asc&format=csv", "next=" + encodeCursor(true, "2026-11-01T00:00:00.000000000Z", "id") + "&order=asc",
		"next=%00%01", "dim.=1", "limit=-1", "from=2026-11-01T00:00:00 01:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, ferr := parseRequest(q)
		if ferr != nil {
			if _, emptyName := q[""]; ferr.Param == "" && !emptyName {
				t.Errorf("error without parameter: %v", ferr)
			}
			return
		}
		_, _, _ = buildQuery(eventsTable, &r.filter)
	})
}

// FuzzCursor: decoding never panics, and encoded cursors decode to what
// was encoded.
func FuzzCursor(f *testing.F) {
	f.Add("2026-11-01T00:00:00.000000000Z", "req-1", true)
	f.Add("", "", false)
	f.Fuzz(func(t *testing.T, ts, id string, asc bool) {
		_, _, _ = decodeCursor(ts, asc)
		if _, err := parseTS(ts); err != nil {
			return
		}
		gotTS, gotID, err := decodeCursor(encodeCursor(asc, ts, id), asc)
		if err != nil || gotTS != ts || gotID != id {
			t.Errorf("round trip (%q, %q) = (%q, %q), %v", ts, id, gotTS, gotID, err)
		}
	})
}
