package policy_test

import (
	"fmt"
	"net/http"

	"github.com/spendops/spendops/internal/keys"
	"github.com/spendops/spendops/internal/policy"
)

func ExampleEvaluate() {
	key := keys.Policy{
		Providers: []string{"openai"},
		Models:    []string{"openai:gpt-4.1*"},
		Dims:      keys.DimsPolicy{Required: true, Pinned: map[string]string{"cost-center": "cc-42"}},
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-ASO-Dims", "team=search,env=prod")
	in := policy.Input{Provider: "openai", Method: "POST", Path: "/v1/chat/completions", Header: h,
		Body: []byte(`{"model":"gpt-4.1-mini","messages":[]}`)}

	dec := policy.Evaluate(key, in)
	fmt.Println(dec.Denial == nil, dec.Model, policy.FormatDims(dec.Dims))

	in.Body = []byte(`{"model":"gpt-5","messages":[]}`)
	dec = policy.Evaluate(key, in)
	fmt.Println(dec.Denial.Status, dec.Denial.Type, dec.Denial.Message)
	// Output:
	// true gpt-4.1-mini cost-center=cc-42,env=prod,team=search
	// 403 model_blocked Model not allowed by API key policy
}
