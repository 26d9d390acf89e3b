package decode

import (
	"bytes"
	stdflate "compress/flate"
	stdgzip "compress/gzip"
	stdzlib "compress/zlib"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// compress encodes data with one coding. gzip and deflate use the standard
// library's encoders, so they check the klauspost decoders independently.
func compress(t testing.TB, coding string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch coding {
	case "gzip", "x-gzip":
		w = stdgzip.NewWriter(&b)
	case "deflate", "zlib":
		w = stdzlib.NewWriter(&b)
	case "rawdeflate":
		w, err = stdflate.NewWriter(&b, stdflate.DefaultCompression)
	case "br":
		w = brotli.NewWriterLevel(&b, 4)
	case "zstd":
		w, err = zstd.NewWriter(&b, zstd.WithEncoderLevel(zstd.SpeedFastest))
	case "identity", "":
		return append([]byte(nil), data...)
	default:
		t.Fatalf("no encoder for %q", coding)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// header maps a test coding name to its Content-Encoding value.
func header(coding string) string {
	switch coding {
	case "zlib", "rawdeflate":
		return "deflate"
	}
	return coding
}

// testData mixes compressible text with random bytes.
func testData(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; {
		if rng.IntN(2) == 0 {
			i += copy(b[i:], "data: {\"choices\":[{\"delta\":{\"content\":\"hello\"}}]}\n\n")
		} else {
			end := min(n, i+rng.IntN(200)+1)
			for ; i < end; i++ {
				b[i] = byte(rng.UintN(256))
			}
		}
	}
	return b
}

// writeChunks writes p in random chunk sizes, checking that every Write
// reports success.
func writeChunks(t testing.TB, w io.Writer, p []byte, rng *rand.Rand, maxChunk int) {
	t.Helper()
	for len(p) > 0 {
		n := min(len(p), 1+rng.IntN(maxChunk))
		got, err := w.Write(p[:n])
		if got != n || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v; want %d, nil", n, got, err, n)
		}
		p = p[n:]
	}
}

var codings = []string{"gzip", "x-gzip", "zlib", "rawdeflate", "br", "zstd", "identity", ""}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, coding := range codings {
		for _, size := range []int{0, 1, 100, 64<<10 + 3, 700 << 10} {
			t.Run(coding+"/"+strconv.Itoa(size), func(t *testing.T) {
				data := testData(rng, size)
				enc := compress(t, coding, data)
				var out bytes.Buffer
				w, err := NewWriter(header(coding), &out, 0)
				if err != nil {
					t.Fatal(err)
				}
				// Tiny chunks on small streams, and at least a few hundred
				// bytes on big ones to keep the test fast.
				maxChunk := 1 + rng.IntN(9000)
				if size > 1<<16 {
					maxChunk += 512
				}
				writeChunks(t, w, enc, rng, maxChunk)
				if err := w.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				if !bytes.Equal(out.Bytes(), data) {
					t.Fatalf("decoded %d bytes, want %d (equal: false)", out.Len(), len(data))
				}
				if got := w.(*Writer).Written(); got != int64(size) {
					t.Errorf("Written = %d, want %d", got, size)
				}
			})
		}
	}
}

// Fixtures made by other tools (see testdata/README.md).
func TestGolden(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "sse.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file, encoding string
	}{
		{"sse.txt.gz", "gzip"},
		{"sse.txt.gz", "X-Gzip"},
		{"sse.txt.2members.gz", "gzip"},
		{"sse.txt.zlib", "deflate"},
		{"sse.txt.rawdeflate", "deflate"},
		{"sse.txt.zst", "zstd"},
		{"sse.txt.br", "br"},
		{"sse.txt.gz.br", "gzip, br"},
		{"sse.txt.gz.br", "gzip,br"},
		{"sse.txt.gz.br", "identity, gzip, identity, BR"},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.encoding, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			w, err := NewWriter(tt.encoding, &out, 0)
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, w, in, rng, 64)
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("decoded %d bytes, want the %d of sse.txt", out.Len(), len(want))
			}
		})
	}
}

func TestZstdWindowLimit(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "bigwindow.zst"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter("zstd", io.Discard, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(in)
	if err := w.Close(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Close = %v, want ErrCorrupt for a 128 MiB window", err)
	}
}

func TestStacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := testData(rng, 200<<10)
	tests := []struct {
		applied []string // in order of application
		header  string
	}{
		{[]string{"gzip", "br"}, "gzip, br"},
		{[]string{"br", "gzip"}, "br, gzip"},
		{[]string{"zlib", "zstd", "gzip"}, "deflate, zstd, gzip"},
		{[]string{"gzip", "gzip"}, "gzip, gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			enc := data
			for _, c := range tt.applied {
				enc = compress(t, c, enc)
			}
			var out bytes.Buffer
			w, err := NewWriter(tt.header, &out, 0)
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, w, enc, rng, 5000)
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("decoded %d bytes, want %d", out.Len(), len(data))
			}
		})
	}
	// Decoding in the wrong order fails as corrupt rather than passing
	// gzip bytes on as text.
	enc := compress(t, "br", compress(t, "gzip", data))
	w, _ := NewWriter("br, gzip", io.Discard, 0)
	w.Write(enc)
	if err := w.Close(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong order: Close = %v, want ErrCorrupt", err)
	}
}

func TestUnsupported(t *testing.T) {
	for _, v := range []string{"compress", "x-compress", "snappy", "gzip, foo", "aes128gcm", "gzip, gzip, gzip, gzip, gzip"} {
		w, err := NewWriter(v, io.Discard, 0)
		if !errors.Is(err, ErrUnsupported) || w != nil {
			t.Errorf("NewWriter(%q) = %v, %v; want nil, ErrUnsupported", v, w, err)
		}
	}
}

func TestCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	data := testData(rng, 100<<10)
	garbage := []byte("this is not compressed at all, just text that a broken server sent")
	for _, coding := range []string{"gzip", "zlib", "br", "zstd"} {
		t.Run(coding+"/garbage", func(t *testing.T) {
			w, _ := NewWriter(header(coding), io.Discard, 0)
			writeChunks(t, w, garbage, rng, 7)
			if err := w.Close(); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Close = %v, want ErrCorrupt", err)
			}
		})
	}
	// These carry checksums, so a flipped byte in the middle is caught
	// even when the bit stream still parses.
	for _, coding := range []string{"gzip", "zlib", "zstd"} {
		t.Run(coding+"/flipped", func(t *testing.T) {
			enc := compress(t, coding, data)
			enc[len(enc)/2] ^= 0x55
			w, _ := NewWriter(header(coding), io.Discard, 0)
			writeChunks(t, w, enc, rng, 4096)
			// The decoder may stop early: Writes after that still succeed.
			writeChunks(t, w, enc, rng, 4096)
			if err := w.Close(); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Close = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestTruncated(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	data := testData(rng, 300<<10)
	for _, coding := range []string{"gzip", "zlib", "rawdeflate", "br", "zstd", "identity"} {
		t.Run(coding, func(t *testing.T) {
			enc := compress(t, coding, data)
			cut := enc[:len(enc)/2]
			var out bytes.Buffer
			w, _ := NewWriter(header(coding), &out, 0)
			writeChunks(t, w, cut, rng, 3000)
			err := w.Close()
			if coding == "identity" {
				if err != nil {
					t.Fatalf("identity: Close = %v", err)
				}
			} else if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Close = %v, want ErrCorrupt", err)
			}
			// Everything decoded before the cut reached dst.
			if !bytes.HasPrefix(data, out.Bytes()) {
				t.Fatalf("output is not a prefix of the original")
			}
			if coding != "zstd" && out.Len() == 0 {
				// zstd's encoder may put all of this in one block, which
				// is lost whole when cut.
				t.Fatalf("nothing decoded from half a stream")
			}
		})
	}
}

func TestEmptyBody(t *testing.T) {
	for _, coding := range codings {
		w, err := NewWriter(header(coding), io.Discard, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("%s: Close with no bytes = %v, want nil", coding, err)
		}
	}
}

func TestBombCap(t *testing.T) {
	const maxOut = 256 << 10
	zeros := make([]byte, 8<<20)
	for _, coding := range []string{"gzip", "zlib", "br", "zstd", "identity"} {
		t.Run(coding, func(t *testing.T) {
			enc := compress(t, coding, zeros)
			if coding != "identity" && len(enc) > 64<<10 {
				t.Fatalf("bomb is %d bytes", len(enc))
			}
			var out bytes.Buffer
			w, _ := NewWriter(header(coding), &out, maxOut)
			start := time.Now()
			rng := rand.New(rand.NewPCG(11, 12))
			writeChunks(t, w, enc, rng, 1<<16)
			err := w.Close()
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v: decoding did not stop at the cap", d)
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Close = %v, want ErrTooLarge", err)
			}
			if out.Len() != maxOut || w.(*Writer).Written() != maxOut {
				t.Fatalf("dst got %d bytes (Written %d), want exactly %d", out.Len(), w.(*Writer).Written(), maxOut)
			}
		})
	}
}

type failWriter struct{ after int }

var errDst = errors.New("dst broke")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errDst
	}
	f.after -= len(p)
	return len(p), nil
}

func TestDstError(t *testing.T) {
	data := bytes.Repeat([]byte("abcdefgh"), 100<<10)
	for _, coding := range []string{"gzip", "identity"} {
		w, _ := NewWriter(coding, &failWriter{after: 1000}, 0)
		writeChunks(t, w, compress(t, coding, data), rand.New(rand.NewPCG(1, 1)), 4096)
		if err := w.Close(); !errors.Is(err, errDst) {
			t.Errorf("%s: Close = %v, want dst's error", coding, err)
		}
	}
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("extractor bug") }

func TestDstPanicIsRecovered(t *testing.T) {
	for _, coding := range []string{"gzip", "zstd", "identity"} {
		before := runtime.NumGoroutine()
		w, _ := NewWriter(coding, panicWriter{}, 0)
		writeChunks(t, w, compress(t, coding, []byte("hello hello hello")), rand.New(rand.NewPCG(1, 1)), 5)
		err := w.Close()
		if err == nil || !strings.Contains(err.Error(), "panic") {
			t.Errorf("%s: Close = %v, want the panic reported", coding, err)
		}
		for range 200 {
			if runtime.NumGoroutine() <= before {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if runtime.NumGoroutine() > before {
			t.Errorf("%s: decoder goroutine still running", coding)
		}
	}
}

func TestCloseTwiceAndWriteAfterClose(t *testing.T) {
	var out bytes.Buffer
	w, _ := NewWriter("gzip", &out, 0)
	w.Write(compress(t, "gzip", []byte("hello")))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write([]byte("more")); n != 4 || err != nil {
		t.Fatalf("Write after Close = %d, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if out.String() != "hello" {
		t.Fatalf("out = %q", out.String())
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	rng := rand.New(rand.NewPCG(13, 14))
	data := testData(rng, 50<<10)
	for i := range 40 {
		coding := codings[i%len(codings)]
		enc := compress(t, coding, data)
		w, err := NewWriter(header(coding), io.Discard, 30<<10)
		if err != nil {
			t.Fatal(err)
		}
		switch i % 4 {
		case 0: // complete (hits the cap)
			w.Write(enc)
		case 1: // truncated
			w.Write(enc[:len(enc)/3])
		case 2: // corrupt
			w.Write([]byte("garbage garbage garbage"))
		case 3: // nothing written
		}
		w.Close()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func FuzzWriter(f *testing.F) {
	f.Add([]byte("hello"), uint8(0), uint8(3))
	for i, name := range []string{"sse.txt.gz", "sse.txt.2members.gz", "sse.txt.zlib", "sse.txt.rawdeflate", "sse.txt.zst", "sse.txt.br", "sse.txt.gz.br"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(i), uint8(17))
		f.Add(b[:len(b)/2], uint8(i), uint8(200))
	}
	encodings := []string{"gzip", "gzip", "deflate", "deflate", "zstd", "br", "gzip, br", "identity", "br, zstd"}
	f.Fuzz(func(t *testing.T, data []byte, enc, chunk uint8) {
		const maxOut = 1 << 16
		var out bytes.Buffer
		w, err := NewWriter(encodings[int(enc)%len(encodings)], &out, maxOut)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			step := int(chunk)%64 + 1
			for p := data; len(p) > 0; {
				n := min(step, len(p))
				if got, err := w.Write(p[:n]); got != n || err != nil {
					done <- errors.New("Write failed")
					return
				}
				p = p[n:]
			}
			w.Close()
			done <- nil
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("deadlock: Write or Close did not return")
		}
		if out.Len() > maxOut {
			t.Fatalf("dst got %d bytes, cap %d", out.Len(), maxOut)
		}
	})
}

func BenchmarkWriter(b *testing.B) {
	rng := rand.New(rand.NewPCG(15, 16))
	data := []byte(strings.Repeat(string(testData(rng, 64<<10)), 4)) // 256 KiB
	for _, coding := range []string{"identity", "gzip", "br", "zstd"} {
		enc := compress(b, coding, data)
		b.Run(coding, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				w, _ := NewWriter(coding, io.Discard, 0)
				for p := enc; len(p) > 0; {
					n := min(len(p), 16<<10)
					w.Write(p[:n])
					p = p[n:]
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
