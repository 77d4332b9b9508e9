package daemon

import (
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/node/hugepage"
)

// adviseHeap marks the Go heap for huge pages (Config.HugePages) and
// logs the outcome; nil where the kernel gives none on request.
func adviseHeap(ctx context.Context, log *slog.Logger) *hugepage.Heap {
	h, err := hugepage.Advise(hugepage.DefaultReserve)
	switch {
	case errors.Is(err, hugepage.ErrUnavailable):
		log.InfoContext(ctx, "heap on 4 KiB pages", "reason", err)
		return nil
	case err != nil:
		log.WarnContext(ctx, "heap on 4 KiB pages", "err", err)
		return nil
	}
	log.InfoContext(ctx, "heap marked for transparent huge pages", "thp", h.Mode, "reserve_mib", h.Reserve>>20)
	return h
}

// registerHeapMetrics exports whether the heap is marked for huge pages
// and how much of the process's memory is on them.
func registerHeapMetrics(reg prometheus.Registerer, marked bool) {
	on := 0.0
	if marked {
		on = 1
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_heap_huge_pages", Help: "1 if the Go heap is marked for transparent huge pages (--huge-pages), 0 if not."},
			func() float64 { return on }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_process_anon_huge_pages_bytes", Help: "The process's anonymous memory on huge pages (AnonHugePages of /proc/self/smaps_rollup; 0 where unknown)."},
			func() float64 {
				n, err := hugepage.AnonHugeBytes()
				if err != nil {
					return 0
				}
				return float64(n)
			}),
	)
}
