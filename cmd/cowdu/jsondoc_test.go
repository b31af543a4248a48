package main

import (
	"encoding/json"
	"testing"

	"github.com/cowcp/cowcp/internal/gendoc/gendoctest"
)

// The README's table and the man page's JSON OUTPUT name each field of the
// report by its jq path; a real report has every field they name and no
// other.
func TestJSONFieldsAreTheDocumentedOnes(t *testing.T) {
	code, stdout, stderr := runCowdu(t, "--json", "-a", makeTree(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var v any
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatalf("%v in:\n%s", err, stdout)
	}
	m, _ := gendoctest.Load(t, manual)
	gendoctest.CheckJSONDocumented(t, m, "../../README.md", "## cowdu: what is shared, what is yours", "JSON OUTPUT", v)
}
