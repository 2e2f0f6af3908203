package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 description of this API; a test checks it against the routes.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}
