package daemon

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/node/hugepage"
)

// logHeapAdvice logs the outcome of Config.HugePages' hugepage.Advise.
// Run logs it rather than New, so that a node that fails to start says
// only why, on one line.
func logHeapAdvice(ctx context.Context, log *slog.Logger, h *hugepage.Heap, err error) {
	switch {
	case h != nil:
		log.InfoContext(ctx, "heap marked for transparent huge pages", "thp", h.Mode, "reserve_mib", h.Reserve>>20)
	case errors.Is(err, hugepage.ErrUnavailable):
		log.InfoContext(ctx, "heap on 4 KiB pages", "reason", err)
	default:
		log.WarnContext(ctx, "heap on 4 KiB pages", "err", err)
	}
}

// hugePageCollector exports whether the heap is marked for huge pages
// and how much of the process's memory is on them. The latter walks the
// process's page tables (/proc/self/smaps_rollup), so a scrape reads it
// at most every anonHugeEvery and nothing is exported when it fails.
type hugePageCollector struct {
	heap            *hugepage.Heap // nil: not marked
	enabled, onHuge *prometheus.Desc
	mu              sync.Mutex
	at              time.Time
	bytes           int64
	err             error
}

const anonHugeEvery = 10 * time.Second

func newHugePageCollector(h *hugepage.Heap) *hugePageCollector {
	return &hugePageCollector{heap: h,
		enabled: prometheus.NewDesc("idmesh_heap_huge_pages_enabled", "1 if the Go heap is marked for transparent huge pages (--huge-pages) and its last mark succeeded, 0 if not.", nil, nil),
		onHuge:  prometheus.NewDesc("idmesh_process_anon_huge_pages_bytes", "The process's anonymous memory on huge pages (AnonHugePages of /proc/self/smaps_rollup, read at most every 10 s).", nil, nil)}
}

// Describe implements prometheus.Collector.
func (c *hugePageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.enabled; ch <- c.onHuge }

// Collect implements prometheus.Collector.
func (c *hugePageCollector) Collect(ch chan<- prometheus.Metric) {
	on := 0.0
	if c.heap != nil && c.heap.Err() == nil {
		on = 1
	}
	ch <- prometheus.MustNewConstMetric(c.enabled, prometheus.GaugeValue, on)
	c.mu.Lock()
	if now := time.Now(); now.Sub(c.at) >= anonHugeEvery { // c.at zero: long ago
		c.bytes, c.err = hugepage.AnonHugeBytes()
		c.at = now
	}
	n, err := c.bytes, c.err
	c.mu.Unlock()
	if err == nil {
		ch <- prometheus.MustNewConstMetric(c.onHuge, prometheus.GaugeValue, float64(n))
	}
}
