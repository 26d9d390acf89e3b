package sse

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"
)

type got struct {
	Name, Data string
	Trunc      bool
}

func scanAll(chunks [][]byte, max int) []got {
	var out []got
	s := New(max, func(e Event) { out = append(out, got{e.Name, string(e.Data), e.Truncated}) })
	for _, c := range chunks {
		_, _ = s.Write(c)
	}
	s.Close()
	return out
}

func TestScanner(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{"lf", "data: a\n\ndata: b\n\n", []got{{"", "a", false}, {"", "b", false}}},
		{"crlf", "event: x\r\ndata: a\r\n\r\n", []got{{"x", "a", false}}},
		{"cr", "data: a\r\rdata: b\r\r", []got{{"", "a", false}, {"", "b", false}}},
		{"multi data", "data: a\ndata: b\n\n", []got{{"", "a\nb", false}}},
		{"comment and no space", ": ping\ndata:x\n\n", []got{{"", "x", false}}},
		{"unterminated last", "data: a\n\ndata: tail", []got{{"", "a", false}, {"", "tail", false}}},
		{"no data no event", "event: e\n\n", nil},
		{"done", "data: [DONE]\n\n", []got{{"", "[DONE]", false}}},
		{"overflow", "data: 0123456789\n\n", []got{{"", "01234", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := 0
			if tt.name == "overflow" {
				max = 5
			}
			if g := scanAll([][]byte{[]byte(tt.in)}, max); !reflect.DeepEqual(g, tt.want) {
				t.Fatalf("got %#v, want %#v", g, tt.want)
			}
		})
	}
}

// Splitting the input anywhere must not change the events.
func TestScannerEverySplit(t *testing.T) {
	in := "event: message_start\r\ndata: {\"a\":1}\r\n\r\n: c\ndata: x\ndata: y\n\ndata: z\r\r"
	want := scanAll([][]byte{[]byte(in)}, 0)
	for i := 0; i <= len(in); i++ {
		for j := i; j <= len(in); j++ {
			g := scanAll([][]byte{[]byte(in[:i]), []byte(in[i:j]), []byte(in[j:])}, 0)
			if !reflect.DeepEqual(g, want) {
				t.Fatalf("split %d,%d: got %v, want %v", i, j, g, want)
			}
		}
	}
}

func FuzzScanner(f *testing.F) {
	f.Add("data: a\r\n\r\ndata: b\n\n", int64(1))
	f.Add("event: e\rdata: x\r\r:comment\n", int64(2))
	f.Fuzz(func(t *testing.T, in string, seed int64) {
		want := scanAll([][]byte{[]byte(in)}, 1024)
		r := rand.New(rand.NewSource(seed))
		var chunks [][]byte
		for rest := []byte(in); len(rest) > 0; {
			n := 1 + r.Intn(len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		if g := scanAll(chunks, 1024); fmt.Sprint(g) != fmt.Sprint(want) {
			t.Fatalf("chunked %q: got %v, want %v", in, g, want)
		}
	})
}
