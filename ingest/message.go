package ingest

import (
	"encoding/json"
	"strings"
)

// This file holds what the adapters share to word their errors.

// Clip shortens a value quoted in an error message to at most 60 bytes (and an ellipsis),
// cutting only between characters.
func Clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}

// JSONKind names the kind of a JSON value for a message: "an object", "an array", "null",
// "a boolean", "a string" or "a number"; "missing" for no value.
func JSONKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "missing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	}
	return "a number"
}

// IsNull reports whether raw is the JSON null.
func IsNull(raw json.RawMessage) bool { return string(raw) == "null" }
