package schemas

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
)

// IDPrefix starts the $id of every schema here: IDPrefix + name + "/v1".
const IDPrefix = "https://schemas.idmesh.dev/"

//go:embed *.json
var files embed.FS

// byName and byID map names and $ids to file contents, read once.
var byName, byID = mustIndex()

func mustIndex() (map[string][]byte, map[string]string) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic("schemas: " + err.Error())
	}
	names := make(map[string][]byte, len(entries))
	ids := make(map[string]string, len(entries))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		b, err := fs.ReadFile(files, e.Name())
		if err != nil {
			panic("schemas: " + err.Error())
		}
		names[name] = b
		ids[IDPrefix+name+"/v1"] = name
	}
	return names, ids
}

// Names returns the names of the schemas, sorted. The caller owns the
// slice.
func Names() []string {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Get returns a copy of the schema called name, and whether there is one.
func Get(name string) ([]byte, bool) {
	b, ok := byName[name]
	return slices.Clone(b), ok
}

// ByID returns a copy of the schema whose $id is id, and whether there is
// one: what a verifier needs for a credentialSchema id.
func ByID(id string) ([]byte, bool) {
	name, ok := byID[id]
	if !ok {
		return nil, false
	}
	return Get(name)
}

// FS returns the schemas as a read-only file system of <name>.json files.
func FS() fs.FS { return files }
