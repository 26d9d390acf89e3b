package keys

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Cache authenticates keys from memory, so a request costs no database
// read. It polls the store's keys version and reloads on change, which is how
// a key created or revoked by the CLI on the same data dir reaches a running
// server within the poll interval.
type Cache struct {
	store    *Store
	secret   []byte
	logger   *slog.Logger
	interval time.Duration
	now      func() time.Time

	snap     atomic.Pointer[snapshot]
	mu       sync.Mutex
	used     map[string]time.Time
	version  atomic.Int64
	reloadMu sync.Mutex
	lastMiss time.Time // last synchronous version check; guarded by reloadMu
}

type snapshot struct {
	byID map[string]*Key
}

// DefaultPollInterval is how often the cache checks for key changes.
const DefaultPollInterval = 200 * time.Millisecond

// NewCache loads all keys. Call Run to keep it current.
func NewCache(ctx context.Context, s *Store, logger *slog.Logger) (*Cache, error) {
	c := &Cache{store: s, secret: s.secret, logger: logger, interval: DefaultPollInterval, now: time.Now, used: map[string]time.Time{}}
	if err := c.reload(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Authenticate verifies a full key string. It returns ErrFormat for a
// malformed key, ErrUnknown for an unknown id or a wrong secret, and
// ErrInactive (with the key) for a deactivated key whose secret is right.
//
// A miss triggers one synchronous check of the keys version (at most every
// refreshGap), so a key created or rotated by the CLI works on its very
// first request instead of after the next poll, while a flood of bad keys
// costs at most one small query per refreshGap.
func (c *Cache) Authenticate(key string) (*Key, error) {
	snap := c.snap.Load()
	k, err := c.authenticate(snap, key)
	if errors.Is(err, ErrUnknown) && c.refreshOnMiss(snap) {
		k, err = c.authenticate(c.snap.Load(), key)
	}
	return k, err
}

const refreshGap = 100 * time.Millisecond

// refreshOnMiss reports whether a newer snapshot than seen is now in place:
// one installed while this call waited for another refresh (so concurrent
// first requests with a brand-new key all succeed), or one it loaded itself
// after finding the keys version changed. The version is read at most once
// per refreshGap, so a flood of unknown keys costs little.
func (c *Cache) refreshOnMiss(seen *snapshot) bool {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	if c.snap.Load() != seen {
		return true
	}
	if time.Since(c.lastMiss) < refreshGap {
		return false
	}
	c.lastMiss = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v, err := c.store.Version(ctx)
	if err != nil || v == c.version.Load() {
		return false
	}
	return c.reload(ctx) == nil
}

func (c *Cache) authenticate(snap *snapshot, key string) (*Key, error) {
	id, err := Parse(key)
	if err != nil {
		return nil, ErrFormat
	}
	k := snap.byID[id]
	if k == nil {
		return nil, ErrUnknown
	}
	h := Hash(c.secret, key)
	ok := Equal(h, k.hash)
	if !ok && k.prevHash != nil && k.PrevHashExpires != nil && c.now().Before(*k.PrevHashExpires) {
		ok = Equal(h, k.prevHash)
	}
	if !ok {
		return nil, ErrUnknown
	}
	if !k.Active {
		return k, ErrInactive
	}
	c.mu.Lock()
	c.used[id] = c.now()
	c.mu.Unlock()
	return k, nil
}

// Len returns the number of cached keys.
func (c *Cache) Len() int { return len(c.snap.Load().byID) }

// Run polls for changes and writes last-used times until ctx ends, then
// writes the last-used times once more.
func (c *Cache) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	flushEvery := 5 * time.Second
	lastFlush := time.Now()
	for {
		select {
		case <-ctx.Done():
			c.flushUsed(context.WithoutCancel(ctx))
			return
		case <-t.C:
		}
		v, err := c.store.Version(ctx)
		if err != nil {
			c.logger.Warn("key cache: read version", "err", err)
			continue
		}
		if v != c.version.Load() {
			c.reloadMu.Lock()
			if err := c.reload(ctx); err != nil {
				c.logger.Warn("key cache: reload", "err", err)
			}
			c.reloadMu.Unlock()
		}
		if time.Since(lastFlush) >= flushEvery {
			c.flushUsed(ctx)
			lastFlush = time.Now()
		}
	}
}

func (c *Cache) reload(ctx context.Context) error {
	v, err := c.store.Version(ctx)
	if err != nil {
		return err
	}
	ks, err := c.store.List(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]*Key, len(ks))
	for _, k := range ks {
		m[k.ID] = k
	}
	c.snap.Store(&snapshot{byID: m})
	c.version.Store(v)
	return nil
}

func (c *Cache) flushUsed(ctx context.Context) {
	c.mu.Lock()
	used := c.used
	c.used = map[string]time.Time{}
	c.mu.Unlock()
	if err := c.store.TouchLastUsed(ctx, used); err != nil {
		c.logger.Warn("key cache: write last-used", "err", err)
	}
}
