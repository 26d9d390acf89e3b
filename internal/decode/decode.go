// Package decode decompresses a copy of an HTTP response body as it streams
// past, so the usage extractor can read it while the client receives the
// provider's compressed bytes untouched.
//
// Decompressors are pull-based (they Read), but the proxy pushes bytes as
// they arrive, so a [Writer] runs the decoder chain in one goroutine fed by
// an io.Pipe. The pipe has no buffer: Write returns once the decoder has
// consumed p, which costs the time to decompress p and hand the output to
// dst (at most maxOut bytes over the whole stream). Nothing is queued, so
// memory per Writer is the decoders' state plus one 32 KiB copy buffer:
//
//   - gzip, deflate: about 40 KiB (32 KiB window plus tables);
//   - br: up to 16 MiB, the ring buffer of the largest window RFC 7932
//     allows (the large-window extension is refused);
//   - zstd: up to 8 MiB window (RFC 9659 caps HTTP zstd windows at 8 MiB;
//     larger frames fail as corrupt), decoded synchronously with no extra
//     goroutines; decoders are pooled, so the history is reused.
//
// The decoder never affects the client's stream: Write always returns
// len(p), nil. Corrupt input, a truncated stream, or more than maxOut
// decoded bytes stop the decoder; later Writes are swallowed and Close
// reports why. dst receives every byte decoded before the stop (exactly
// maxOut bytes when the cap is hit), so an extractor can still report the
// usage it saw in a cut stream. A panic in a decoder or in dst is recovered
// and reported by Close, never propagated.
package decode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// DefaultMaxOut is the decoded-size cap used when NewWriter gets maxOut <= 0.
const DefaultMaxOut = 64 << 20

// maxLayers bounds stacked encodings; real servers use one.
const maxLayers = 4

// zstdMaxWindow is RFC 9659's limit for zstd as an HTTP content coding.
const zstdMaxWindow = 8 << 20

var (
	// ErrUnsupported is returned by NewWriter for a content coding it
	// cannot decode; the caller should skip usage extraction.
	ErrUnsupported = errors.New("decode: unsupported content encoding")
	// ErrTooLarge is reported by Close when the decoded stream exceeded
	// maxOut bytes (a decompression bomb, or just a huge body).
	ErrTooLarge = errors.New("decode: decoded size exceeds limit")
	// ErrCorrupt is reported by Close when the compressed bytes were
	// invalid or ended before the compressed stream did (a cut stream).
	// The underlying decoder's error is wrapped beside it.
	ErrCorrupt = errors.New("decode: corrupt or truncated stream")
)

// Writer decompresses what is written to it into dst. It is used by one
// goroutine; Close must be called (it ends the decoder goroutine).
type Writer struct {
	pw   *io.PipeWriter // nil for identity
	done chan struct{}  // closed when the decoder goroutine has ended
	out  *capWriter
	err  error // the goroutine's result; read after done
	// closed is set by Close; Writes after it are swallowed.
	closed bool
}

// NewWriter returns a Writer that decodes contentEncoding (a
// Content-Encoding header value) into dst, stopping after maxOut decoded
// bytes (DefaultMaxOut when maxOut <= 0).
//
// Supported codings, case-insensitive: gzip and x-gzip (concatenated
// members too); deflate, which RFC 9110 defines as zlib-wrapped but which
// some servers send raw, so the first two bytes decide (a valid zlib header
// means zlib, anything else raw deflate); br; zstd; identity. A list such as
// "gzip, br" means gzip was applied first, so it is decoded br first, then
// gzip. An empty value or only identity passes bytes through (with the same
// cap) without a goroutine. Any other coding gives ErrUnsupported.
//
// dst must not block for long and is written from the decoder goroutine,
// never concurrently with itself. Its errors stop decoding.
func NewWriter(contentEncoding string, dst io.Writer, maxOut int64) (io.WriteCloser, error) {
	layers, err := parseEncodings(contentEncoding)
	if err != nil {
		return nil, err
	}
	if maxOut <= 0 {
		maxOut = DefaultMaxOut
	}
	w := &Writer{out: &capWriter{dst: dst, left: maxOut}, done: make(chan struct{})}
	if len(layers) == 0 {
		close(w.done)
		return w, nil
	}
	pr, pw := io.Pipe()
	w.pw = pw
	go w.run(pr, layers)
	return w, nil
}

// parseEncodings splits a Content-Encoding value into its codings, in the
// order they were applied, dropping identity.
func parseEncodings(v string) ([]string, error) {
	var layers []string
	for f := range strings.SplitSeq(v, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch f {
		case "", "identity":
			continue
		case "gzip", "x-gzip", "deflate", "br", "zstd":
			layers = append(layers, f)
		default:
			return nil, fmt.Errorf("%w: %q", ErrUnsupported, f)
		}
	}
	if len(layers) > maxLayers {
		return nil, fmt.Errorf("%w: %d stacked codings", ErrUnsupported, len(layers))
	}
	return layers, nil
}

// Write feeds compressed bytes to the decoder. It always returns len(p),
// nil: decoding problems are reported by Close, never to the caller's
// stream.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed || len(p) == 0 {
		return len(p), nil
	}
	if w.pw == nil {
		w.writeIdentity(p)
		return len(p), nil
	}
	select {
	case <-w.done:
		// The decoder stopped; Close reports why.
	default:
		// Returns an error only when the decoder has stopped meanwhile:
		// run closes the read side with an error, which unblocks us.
		_, _ = w.pw.Write(p)
	}
	return len(p), nil
}

// writeIdentity passes p to dst through the cap; capWriter remembers the
// first error, and a panic in dst is kept there too, as in the decoder
// goroutine.
func (w *Writer) writeIdentity(p []byte) {
	defer func() {
		if r := recover(); r != nil {
			w.out.err = fmt.Errorf("decode: panic writing decoded bytes: %v", r)
		}
	}()
	_, _ = w.out.Write(p)
}

// Close signals the end of the compressed stream, waits for the decoder to
// finish (it cannot block: its input is closed, and it writes only to dst)
// and returns why decoding stopped early, if it did: an error wrapping
// ErrTooLarge or ErrCorrupt, dst's error, or a recovered panic. A body with
// no bytes at all is not an error. Close is idempotent.
func (w *Writer) Close() error {
	if !w.closed {
		w.closed = true
		if w.pw != nil {
			_ = w.pw.Close()
		}
		<-w.done
	}
	if w.pw == nil {
		return w.out.err
	}
	return w.err
}

// Written returns the number of decoded bytes given to dst. Call it after
// Close.
func (w *Writer) Written() int64 { return w.out.n }

// errStopped closes the pipe's read side once the decoder ends, so pending
// and later Writes return at once instead of waiting for a reader.
var errStopped = errors.New("decode: decoder stopped")

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// run decodes until the input ends or decoding fails. It always closes pr
// and done, even if a decoder panics on hostile input.
func (w *Writer) run(pr *io.PipeReader, layers []string) {
	in := &countReader{r: pr}
	defer func() {
		if p := recover(); p != nil {
			// A decoder choking on hostile input, or dst itself: either
			// way the proxy must not crash.
			w.err = fmt.Errorf("decode: panic while decoding %s: %v", strings.Join(layers, ", "), p)
		}
		pr.CloseWithError(errStopped)
		close(w.done)
	}()
	err := decodeChain(in, layers, w.out)
	switch {
	case err == nil:
	case errors.Is(err, ErrTooLarge):
	case in.n == 0:
		// No body at all (a 204, a HEAD, an empty error body).
		err = nil
	case w.out.err != nil && errors.Is(err, w.out.err):
		// dst failed: report its error as is.
	default:
		err = fmt.Errorf("%w: %s: %w", ErrCorrupt, strings.Join(layers, ", "), err)
	}
	w.err = err
}

// decodeChain builds the decoders, outermost coding (applied last) first,
// copies the result into out, and releases the decoders.
func decodeChain(in io.Reader, layers []string, out io.Writer) (err error) {
	r := in
	var releases []func(ok bool)
	finished := false // stays false if a decoder panics
	defer func() {
		for _, release := range releases {
			release(finished && err == nil)
		}
	}()
	for i := len(layers) - 1; i >= 0; i-- {
		next, release, err := newReader(layers[i], r)
		if err != nil {
			return err
		}
		if release != nil {
			releases = append(releases, release)
		}
		r = next
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	_, err = io.CopyBuffer(out, onlyReader{r}, *bp)
	finished = true
	return err
}

// newReader returns a decoder of one coding reading from r, and a function
// releasing its resources, told whether decoding succeeded.
func newReader(coding string, r io.Reader) (io.Reader, func(ok bool), error) {
	switch coding {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, func(bool) { _ = zr.Close() }, nil
	case "deflate":
		br := bufio.NewReaderSize(r, 512)
		head, err := br.Peek(2)
		if err != nil {
			return nil, nil, err
		}
		if isZlibHeader(head[0], head[1]) {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return nil, nil, err
			}
			return zr, func(bool) { _ = zr.Close() }, nil
		}
		fr := flate.NewReader(br)
		return fr, func(bool) { _ = fr.Close() }, nil
	case "br":
		return brotli.NewReader(r), nil, nil
	case "zstd":
		zr, err := getZstd(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, func(ok bool) { putZstd(zr, ok) }, nil
	}
	return nil, nil, fmt.Errorf("%w: %q", ErrUnsupported, coding)
}

// zstdPool reuses zstd decoders: each allocates its window history (up to
// 8 MiB) on first use, which would otherwise be garbage per response.
var zstdPool sync.Pool

func getZstd(r io.Reader) (*zstd.Decoder, error) {
	if d, ok := zstdPool.Get().(*zstd.Decoder); ok {
		if err := d.Reset(r); err == nil {
			return d, nil
		}
		d.Close()
	}
	return zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1), // synchronous: no goroutines of its own
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(zstdMaxWindow),
	)
}

// putZstd pools a decoder that finished cleanly; one that failed on hostile
// input is closed rather than trusted again.
func putZstd(d *zstd.Decoder, ok bool) {
	if !ok {
		d.Close()
		return
	}
	_ = d.Reset(nil) // drops the reference to this response's pipe
	zstdPool.Put(d)
}

// isZlibHeader reports whether two bytes start a zlib stream (RFC 1950):
// compression method 8 with a window of at most 32 KiB, and a header
// checksum that makes the pair a multiple of 31. About one raw deflate
// stream in 500 starts like this by chance and would then fail as corrupt.
func isZlibHeader(cmf, flg byte) bool {
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

// capWriter passes at most left bytes to dst, then fails with ErrTooLarge.
type capWriter struct {
	dst  io.Writer
	left int64
	n    int64
	err  error
}

func (c *capWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	over := int64(len(p)) > c.left
	if over {
		p = p[:c.left]
	}
	n, err := c.dst.Write(p)
	c.n += int64(n)
	c.left -= int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		c.err = fmt.Errorf("decode: writing decoded bytes: %w", err)
		return n, c.err
	}
	if over {
		c.err = ErrTooLarge
		return n, c.err
	}
	return n, nil
}

// countReader counts the compressed bytes read.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// onlyReader hides a decoder's WriteTo, so io.CopyBuffer goes through
// capWriter with bounded chunks rather than the decoder's own buffers.
type onlyReader struct{ io.Reader }
