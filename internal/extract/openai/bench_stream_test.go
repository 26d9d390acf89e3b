package openai

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spendops/spendops/internal/provider"
	"github.com/spendops/spendops/internal/usage"
)

// BenchmarkStreamChunks measures extraction cost per SSE chunk of a typical
// chat stream with include_usage (every chunk has "usage":null).
func BenchmarkStreamChunks(b *testing.B) {
	var sb strings.Builder
	const chunks = 100
	for i := 0; i < chunks; i++ {
		fmt.Fprintf(&sb, "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-2024-08-06\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_eb9dce56a8\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" word%d\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n", i)
	}
	sb.WriteString("data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":100,\"total_tokens\":119}}\n\ndata: [DONE]\n\n")
	events := strings.SplitAfter(sb.String(), "\n\n")
	req := usage.Request{Provider: "openai", Dialect: provider.DialectOpenAI, Method: "POST", Path: "/v1/chat/completions", StatusCode: 200, ContentType: "text/event-stream", Stream: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := New(req)
		for _, ev := range events {
			_, _ = x.Write([]byte(ev))
		}
		if r := x.Report(); !r.Found || r.Tokens.Completion != 100 {
			b.Fatalf("report %+v", r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/chunk")
}
