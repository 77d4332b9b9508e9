package verifier

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/idmesh/idmesh/credential/statuslist"
)

// within reports whether s's bytes lie in big's.
func within(s, big string) bool {
	p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(big)))
	return len(s) > 0 && lo <= p && p < lo+uintptr(len(big))
}

// TestListCacheCopiesURL: a list URL is kept as a copy, whatever it is a
// part of (a request's body or token, which the cache would otherwise
// keep whole while accounting len(url) bytes), for a new entry and for a
// later height of one.
func TestListCacheCopiesURL(t *testing.T) {
	bits, err := statuslist.New(statuslist.MinLength)
	if err != nil {
		t.Fatal(err)
	}
	var c listCache
	l := &cachedList{key: [32]byte{1}, list: &statuslist.List{Bits: bits}}
	c.put(l.key, l)
	request := `{"statusListCredential":"https://node.example/status-lists/1"}` + strings.Repeat(" ", 64<<10)
	url := request[25:61]
	for h := uint64(1); h <= 2; h++ {
		c.putCurrent(url, h, l)
		if c.at(url, h) != l {
			t.Fatalf("height %d: the list is not kept", h)
		}
		for k := range c.current {
			if within(k, request) {
				t.Fatalf("height %d: the cache keeps the request the URL was part of", h)
			}
		}
	}
}
