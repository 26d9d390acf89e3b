package gemini

import "strings"

// ModelFromPath parses a Gemini API model-method path:
//
//	/v1beta/models/{model}:{action}       → model "{model}"
//	/v1/models/{model}:{action}           (also /v1alpha)
//	/v1beta/tunedModels/{model}:{action}  → model "tunedModels/{model}"
//
// Tuned models keep their collection prefix so that a model allow-list entry
// for a base model never matches a tuned model of the same name by accident.
//
// It is strict, because policy code uses it to decide which model a request
// runs: path must be the decoded path without query; the model id must be
// 1-128 characters of [a-z0-9._-] starting with a letter or digit, with no
// ".."; the action must be a camel-case method name ([a-z][A-Za-z]*, at most
// 64). Anything else (percent-encoding, extra segments, upper case, empty
// parts, a missing action, Vertex-style project paths) gives ok false.
func ModelFromPath(path string) (model, action string, ok bool) {
	rest, found := strings.CutPrefix(path, "/")
	if !found {
		return "", "", false
	}
	version, rest, found := strings.Cut(rest, "/")
	if !found || (version != "v1" && version != "v1beta" && version != "v1alpha") {
		return "", "", false
	}
	coll, rest, found := strings.Cut(rest, "/")
	if !found || (coll != "models" && coll != "tunedModels") {
		return "", "", false
	}
	name, action, found := strings.Cut(rest, ":")
	if !found || !validModelID(name) || !validAction(action) {
		return "", "", false
	}
	if coll == "tunedModels" {
		name = coll + "/" + name
	}
	return name, action, true
}

func validModelID(s string) bool {
	if len(s) == 0 || len(s) > 128 || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

func validAction(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
