package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestWebhookPerHostSlots: a relying party whose endpoint hangs holds at
// most maxWebhooksPerHost deliveries; past them its calls are dropped,
// while another host's call is delivered at once; the slots come back
// when the hanging calls end.
func TestWebhookPerHostSlots(t *testing.T) {
	release := make(chan struct{})
	var aCalls atomic.Int32
	aArrived := make(chan struct{}, 2*maxWebhooksPerHost)
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		aCalls.Add(1)
		aArrived <- struct{}{}
		<-release
	}))
	defer a.Close()
	bArrived := make(chan struct{}, 1)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		bArrived <- struct{}{}
	}))
	defer b.Close()
	h := newHookSender(slog.New(slog.DiscardHandler), nil, time.Now)
	key := []byte("k")
	failsafe := time.After(30 * time.Second)
	for i := range maxWebhooksPerHost {
		h.send(a.URL+"/hook", key, VPTransaction{TransactionID: "a"})
		select {
		case <-aArrived:
		case <-failsafe:
			t.Fatalf("call %d to the hanging host did not arrive", i+1)
		}
	}
	h.send(a.URL+"/hook", key, VPTransaction{TransactionID: "a-over"}) // dropped
	h.send(b.URL+"/hook", key, VPTransaction{TransactionID: "b"})
	select {
	case <-bArrived:
	case <-failsafe:
		t.Fatal("the other host's call was not delivered while the first host hung")
	}
	close(release)
	for {
		h.mu.Lock()
		n := len(h.perHost)
		h.mu.Unlock()
		if n == 0 && len(h.slots) == 0 {
			break
		}
		select {
		case <-failsafe:
			t.Fatalf("%d hosts still hold deliveries", n)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if got := aCalls.Load(); got != maxWebhooksPerHost {
		t.Fatalf("the hanging host got %d calls, want %d (the one over its slots dropped)", got, maxWebhooksPerHost)
	}
	// Its slots are free again.
	h.send(b.URL+"/hook", key, VPTransaction{TransactionID: "b2"})
	select {
	case <-bArrived:
	case <-failsafe:
		t.Fatal("no delivery after the slots came back")
	}
}
