package api

import (
	"slices"
	"testing"
)

// TestStatusPurposesDeduplicated: a purpose named twice gets one entry;
// the order first given is kept.
func TestStatusPurposesDeduplicated(t *testing.T) {
	tests := []struct {
		name string
		req  map[string]any
		want []string
	}{
		{"absent", map[string]any{}, []string{"revocation", "suspension"}},
		{"twice", map[string]any{"options": map[string]any{"statusPurposes": []any{"revocation", "revocation"}}}, []string{"revocation"}},
		{"order kept", map[string]any{"options": map[string]any{"statusPurposes": []any{"suspension", "revocation", "suspension", "revocation"}}}, []string{"suspension", "revocation"}},
		{"none", map[string]any{"options": map[string]any{"statusPurposes": []any{}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statusPurposes(tt.req)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("statusPurposes = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := statusPurposes(map[string]any{"options": map[string]any{"statusPurposes": []any{"revocation", "expiry"}}}); err == nil {
		t.Fatal("an unknown purpose was accepted")
	}
}
