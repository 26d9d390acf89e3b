package pipeline

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzSpoolRecord: a spool line, whatever a crash or a disk left in it,
// either decodes to a usable record or is rejected; it never panics, and a
// decoded usage record always carries its event.
func FuzzSpoolRecord(f *testing.F) {
	ev, _ := encodeEvent(nil, event(1), true, 42)
	den, _ := encodeDenial(nil, denial(1), 42)
	for _, s := range [][]byte{ev, den, ev[:len(ev)/2], []byte(`{"k":"u"}`), []byte(`{"k":"d","d":null}`), []byte(`{"k":"u","e":{},"r":"not json"}`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var rec spoolRecord
		if err := decodeRecord(line, &rec); err != nil {
			return
		}
		switch rec.Kind {
		case kindUsage:
			if rec.Event == nil {
				t.Fatal("usage record without event")
			}
			// Re-encoding keeps raw usage bytes exactly.
			b, err := encodeEvent(nil, *rec.Event, rec.Priced, rec.At)
			if err != nil {
				return // e.g. a time outside JSON's range
			}
			var again spoolRecord
			if err := decodeRecord(b, &again); err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
			if !bytes.Equal(again.Event.RawUsage, rec.Event.RawUsage) {
				t.Fatalf("raw usage changed: %q -> %q", rec.Event.RawUsage, again.Event.RawUsage)
			}
		case kindDenial:
			if rec.Denial == nil {
				t.Fatal("denial record without denial")
			}
		}
		_ = json.Valid(line)
	})
}
