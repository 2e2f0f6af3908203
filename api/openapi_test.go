package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/obsindex"
)

// TestOpenAPIMatchesRoutes holds /openapi.json against the routes the server registers: every
// route is documented and every documented operation is served, each with its responses.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	a, err := agreement.LoadFile("../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tagger, err := obsindex.NewTagger(a)
	if err != nil {
		t.Fatal(err)
	}
	_, patterns := build(Config{Agreement: a, Observations: obsindex.New(a, tagger), Tagger: tagger})

	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if _, ok := op["responses"].(map[string]any); !ok {
				t.Errorf("%s %s: no responses", method, path)
			}
			if _, ok := op["operationId"].(string); !ok {
				t.Errorf("%s %s: no operationId", method, path)
			}
		}
	}
	slices.Sort(documented)
	slices.Sort(patterns)
	if !slices.Equal(documented, patterns) {
		t.Errorf("routes and openapi.json differ:\nserved:     %v\ndocumented: %v", patterns, documented)
	}
}
