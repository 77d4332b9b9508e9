package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// banner tells whoever started a node what it serves. With --log-format
// text it prints the "idmesh: ..." lines a person reads; with json it
// writes the same facts as JSON log records (one object per line, the
// message and named attributes) on stdout, so that everything a node
// writes, on either stream, is in the format chosen. Secrets are never
// in a JSON record: the API token is named by the file that holds it.
type banner struct {
	w    io.Writer
	json *slog.Logger
}

func newBanner(w io.Writer, format string) banner {
	if format == "json" {
		return banner{json: slog.New(slog.NewJSONHandler(w, nil))}
	}
	return banner{w: w}
}

// say prints text as a line, or logs msg with attrs as a JSON record.
func (b banner) say(text, msg string, attrs ...slog.Attr) {
	if b.json != nil {
		b.json.LogAttrs(context.Background(), slog.LevelInfo, msg, attrs...)
		return
	}
	fmt.Fprintln(b.w, "idmesh: "+text)
}

// bannerServingMsg is the message of the JSON record that names the
// address a node serves (the "idmesh: serving URL" line in text).
const bannerServingMsg = "serving"

// servingURL returns the URL a node's output line says it serves, in
// either format, and whether the line says so.
func servingURL(line string) (string, bool) {
	if u, ok := strings.CutPrefix(line, "idmesh: serving "); ok {
		return u, true
	}
	if !strings.HasPrefix(line, "{") {
		return "", false
	}
	var rec struct {
		Msg string `json:"msg"`
		URL string `json:"url"`
	}
	if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != bannerServingMsg || rec.URL == "" {
		return "", false
	}
	return rec.URL, true
}
