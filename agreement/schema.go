package agreement

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of the agreement format, for
// editors and YAML language servers. It checks the shape of a file; the
// references, geometry and cross-field rules are checked by [Load].
//
//go:embed schema.json
var Schema []byte
