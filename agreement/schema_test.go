package agreement

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("compiling schema.json: %v", err)
	}
	return sch
}

// yamlValue converts a YAML file to the JSON value the schema sees.
func yamlValue(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: converting to JSON: %v", path, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func TestSchemaAcceptsGood(t *testing.T) {
	sch := compileSchema(t)
	files, _ := filepath.Glob("testdata/*.good.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if err := sch.Validate(yamlValue(t, f)); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		})
	}
}

// TestSchemaRejectsBad checks the faults a schema can see: shapes, types,
// formats and ranges. References and geometry are left to Load.
func TestSchemaRejectsBad(t *testing.T) {
	sch := compileSchema(t)
	for _, f := range []string{
		"unknown-key.bad.yaml",
		"wrong-type.bad.yaml",
		"missing-key.bad.yaml",
		"malformed-id.bad.yaml",
		"latitude.bad.yaml",
		"longitude.bad.yaml",
		"ring-short.bad.yaml",
		"line-short.bad.yaml",
		"public-key.bad.yaml",
		"liaison.bad.yaml",
		"no-dday.bad.yaml",
		"bad-dday.bad.yaml",
		"version.bad.yaml",
		"edges.bad.yaml",
		"calibre.bad.yaml",
		"circle.bad.yaml",
		"corridor.bad.yaml",
		"duration.bad.yaml",
		"rule-fields.bad.yaml",
		"measure-mode.bad.yaml",
		"matrix-repeat.bad.yaml",
		"party.bad.yaml",
		"shapes.bad.yaml",
		"quorum.bad.yaml",
	} {
		t.Run(f, func(t *testing.T) {
			if err := sch.Validate(yamlValue(t, filepath.Join("testdata", f))); err == nil {
				t.Errorf("schema accepts %s", f)
			}
		})
	}
}
