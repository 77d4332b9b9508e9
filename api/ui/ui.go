package ui

import (
	"embed"
	"path"
	"strings"
)

//go:embed static
var files embed.FS

// CSP is the Content-Security-Policy of every UI response: nothing but
// the node's own scripts, styles and images (and data: images), no
// framing, no <base>, forms posting only to the node.
const CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// IndexName is the page served at /.
const IndexName = "index.html"

// types are the media types of the asset extensions.
var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// Asset returns the bytes and media type of the asset called name (a
// file name of the static folder, no directories), or false.
func Asset(name string) ([]byte, string, bool) {
	if name == "" || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return nil, "", false
	}
	ct, ok := types[path.Ext(name)]
	if !ok {
		return nil, "", false
	}
	b, err := files.ReadFile("static/" + name)
	if err != nil {
		return nil, "", false
	}
	return b, ct, true
}

// Names lists the assets.
func Names() []string {
	ents, _ := files.ReadDir("static")
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
