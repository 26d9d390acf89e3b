package pipeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spendops/spendops/internal/usage"
)

// The spool is a directory of append-only segment files,
// seg-<20-digit sequence>.jsonl, one JSON record per line. Records are
// appended to the active segment; replay reads only sealed segments, oldest
// first, and deletes a segment once all its records are committed to the
// store. A crash during replay replays the whole segment again, which the
// store's idempotence on request_id makes harmless.
//
// Durability: every append is a write(2) straight to the file (no user-space
// buffer), so a record survives the process being killed as soon as the
// append returns. Appends from the writer goroutine (batches the store
// refused, the queue drained at shutdown) are fsynced before they return;
// appends from request goroutines whose queue was full are fsynced by a
// background loop every Config.SpoolSync (default 1 s), so on power loss
// or a kernel crash at most that window of overflow records can be lost. A
// new segment's directory entry is fsynced with the first fsync after its
// creation.
//
// Request goroutines never wait for an fsync: mu (held for a write(2))
// guards the file set, and every fsync and close runs under syncMu only.
// Segments sealed while dirty are fsynced and closed by the next sync pass
// (retired), not by the goroutine that sealed them.
type spool struct {
	dir      string
	segBytes int64

	mu          sync.Mutex
	active      *os.File
	activeSeq   uint64
	activeBytes int64
	activeRecs  int64
	dirty       bool // active has writes not yet fsynced
	dirDirty    bool // a segment was created since the last directory fsync
	syncAlways  bool // after close: no sync loop runs any more
	nextSeq     uint64
	sealed      []segment
	retired     []retiredFile

	syncMu sync.Mutex

	bytes  atomic.Int64 // all segments
	events atomic.Int64 // all records
}

type segment struct {
	seq   uint64
	bytes int64
	recs  int64
}

type retiredFile struct {
	f     *os.File
	dirty bool
}

const segPrefix, segSuffix = "seg-", ".jsonl"

func segName(seq uint64) string { return fmt.Sprintf("%s%020d%s", segPrefix, seq, segSuffix) }

// openSpool takes over the segments left in dir by an earlier run (they are
// all sealed) and counts their records.
func openSpool(dir string, segBytes int64, syncAlways bool) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool dir: %w", err)
	}
	s := &spool{dir: dir, segBytes: segBytes, syncAlways: syncAlways, nextSeq: 1}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool dir: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, segPrefix) || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, segPrefix), segSuffix), 10, 64)
		if err != nil {
			continue
		}
		n, size, err := countLines(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("spool segment %s: %w", name, err)
		}
		s.sealed = append(s.sealed, segment{seq: seq, bytes: size, recs: n})
		s.bytes.Add(size)
		s.events.Add(n)
		s.nextSeq = max(s.nextSeq, seq+1)
	}
	slices.SortFunc(s.sealed, func(a, b segment) int { return cmpUint(a.seq, b.seq) })
	return s, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// countLines counts records, a torn last line (no newline) included.
func countLines(path string) (n, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	last := byte('\n')
	for {
		k, err := f.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		size += int64(k)
		if k > 0 {
			last = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if last != '\n' {
		n++
	}
	return n, size, nil
}

// append writes records (each a JSON line ending in '\n') to the active
// segment in one write. With sync (or after close) it returns only after
// the records and the segment's directory entry are fsynced.
func (s *spool) append(lines []byte, recs int64, sync bool) error {
	s.mu.Lock()
	if s.active == nil {
		if err := s.create(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	if _, err := s.active.Write(lines); err != nil {
		// A short write leaves a torn line; replay skips it. Seal the
		// segment so later records do not follow the torn one.
		s.sealLocked()
		s.mu.Unlock()
		return fmt.Errorf("spool write: %w", err)
	}
	s.activeBytes += int64(len(lines))
	s.activeRecs += recs
	s.bytes.Add(int64(len(lines)))
	s.events.Add(recs)
	sync = sync || s.syncAlways
	s.dirty = true
	if s.activeBytes >= s.segBytes {
		s.sealLocked()
	}
	s.mu.Unlock()
	if !sync {
		return nil
	}
	return s.syncNow()
}

func (s *spool) create() error {
	for {
		seq := s.nextSeq
		s.nextSeq++
		f, err := os.OpenFile(filepath.Join(s.dir, segName(seq)), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // another process's segment: never write into it
		}
		if err != nil {
			return fmt.Errorf("spool create: %w", err)
		}
		s.active, s.activeSeq, s.activeBytes, s.activeRecs, s.dirty = f, seq, 0, 0, false
		s.dirDirty = true
		return nil
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool dir sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool dir sync: %w", err)
	}
	return nil
}

// sealLocked retires the active segment and queues it for replay. Replay
// may read it before its fsync: reads see the page cache.
func (s *spool) sealLocked() {
	if s.active == nil {
		return
	}
	s.retired = append(s.retired, retiredFile{s.active, s.dirty})
	s.active, s.dirty = nil, false
	if s.activeRecs > 0 {
		s.sealed = append(s.sealed, segment{seq: s.activeSeq, bytes: s.activeBytes, recs: s.activeRecs})
	} else {
		_ = os.Remove(filepath.Join(s.dir, segName(s.activeSeq)))
	}
}

// syncNow fsyncs everything written so far: retired segments (then
// closed), the active segment and the directory. Callers serialise on
// syncMu; appends without sync do not wait for it.
func (s *spool) syncNow() error {
	s.mu.Lock()
	retired := s.retired
	s.retired = nil
	f, dirty, dirDirty := s.active, s.dirty, s.dirDirty
	s.dirty, s.dirDirty = false, false
	s.mu.Unlock()

	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	var errs []error
	for _, r := range retired {
		if r.dirty {
			if err := r.f.Sync(); err != nil {
				errs = append(errs, err)
			}
		}
		_ = r.f.Close()
	}
	// f may have been retired and closed meanwhile; whoever took it from
	// the retired list fsynced it under syncMu before closing it.
	if f != nil && dirty {
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if dirDirty {
		if err := syncDir(s.dir); err != nil {
			errs = append(errs, err)
			s.mu.Lock()
			s.dirDirty = true // try again next pass
			s.mu.Unlock()
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("spool fsync: %w", err)
	}
	return nil
}

// pending reports whether any record waits for replay.
func (s *spool) pending() bool { return s.events.Load() > 0 }

// oldest returns the oldest sealed segment, sealing the active one first
// when it is the only one holding records.
func (s *spool) oldest() (segment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sealed) == 0 && s.activeRecs > 0 {
		s.sealLocked()
	}
	if len(s.sealed) == 0 {
		return segment{}, false
	}
	return s.sealed[0], true
}

// remove deletes a replayed segment.
func (s *spool) remove(seg segment) error {
	s.mu.Lock()
	s.sealed = slices.DeleteFunc(s.sealed, func(x segment) bool { return x.seq == seg.seq })
	s.mu.Unlock()
	s.bytes.Add(-seg.bytes)
	s.events.Add(-seg.recs)
	if err := os.Remove(filepath.Join(s.dir, segName(seg.seq))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spool remove: %w", err)
	}
	return nil
}

// close seals and fsyncs the active segment; later appends open a new one
// and fsync each write, since no sync loop runs after close.
func (s *spool) close() error {
	s.mu.Lock()
	s.syncAlways = true
	s.sealLocked()
	s.mu.Unlock()
	return s.syncNow()
}

// abandon closes the files without fsync, as a killed process would.
func (s *spool) abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealLocked()
	for _, r := range s.retired {
		_ = r.f.Close()
	}
	s.retired = nil
}

// spoolRecord is one line of a segment. RawUsage travels as a string so
// the provider's bytes come back exactly (a json.RawMessage would be
// re-compacted). At is the enqueue time (Unix ns) for the latency metric.
type spoolRecord struct {
	Kind     string        `json:"k"`
	Priced   bool          `json:"p,omitempty"`
	At       int64         `json:"t,omitempty"`
	Event    *usage.Event  `json:"e,omitempty"`
	RawUsage *string       `json:"r,omitempty"`
	Denial   *usage.Denial `json:"d,omitempty"`
}

const (
	kindUsage  = "u"
	kindDenial = "d"
)

func encodeEvent(buf []byte, e usage.Event, priced bool, at int64) ([]byte, error) {
	rec := spoolRecord{Kind: kindUsage, Priced: priced, At: at}
	if e.RawUsage != nil {
		raw := string(e.RawUsage)
		rec.RawUsage = &raw
		e.RawUsage = nil
	}
	rec.Event = &e
	return appendJSONLine(buf, &rec)
}

func encodeDenial(buf []byte, d usage.Denial, at int64) ([]byte, error) {
	return appendJSONLine(buf, &spoolRecord{Kind: kindDenial, At: at, Denial: &d})
}

func appendJSONLine(buf []byte, rec *spoolRecord) ([]byte, error) {
	// encoding/json never emits a raw newline (it escapes them in
	// strings), so one record is one line.
	b, err := json.Marshal(rec)
	if err != nil {
		return buf, err
	}
	buf = append(buf, b...)
	return append(buf, '\n'), nil
}

// segmentReader yields a segment's records in order.
type segmentReader struct {
	seg  segment
	f    *os.File
	r    *bufio.Reader
	line int64
	eof  bool
}

func (s *spool) openSegment(seg segment) (*segmentReader, error) {
	f, err := os.Open(filepath.Join(s.dir, segName(seg.seq)))
	if err != nil {
		return nil, fmt.Errorf("spool open: %w", err)
	}
	return &segmentReader{seg: seg, f: f, r: bufio.NewReaderSize(f, 256<<10)}, nil
}

// next returns the next record; a line that does not decode (a write torn
// by a crash or a disk error) is reported through bad and skipped.
func (sr *segmentReader) next(bad func(line int64, err error)) (*spoolRecord, bool) {
	for {
		b, err := sr.r.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if err != io.EOF {
				bad(sr.line+1, err)
			}
			sr.eof = true
			return nil, false
		}
		sr.line++
		var rec spoolRecord
		if derr := decodeRecord(b, &rec); derr != nil {
			bad(sr.line, derr)
			continue
		}
		return &rec, true
	}
}

func (sr *segmentReader) close() { _ = sr.f.Close() }

func decodeRecord(b []byte, rec *spoolRecord) error {
	if err := json.Unmarshal(b, rec); err != nil {
		return err
	}
	switch {
	case rec.Kind == kindUsage && rec.Event != nil:
		if rec.RawUsage != nil {
			rec.Event.RawUsage = []byte(*rec.RawUsage)
		}
		return nil
	case rec.Kind == kindDenial && rec.Denial != nil:
		return nil
	}
	return fmt.Errorf("unknown record kind %q", rec.Kind)
}
