package leveldb

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/storage"
)

// failStorage is a storage whose writers fail while fail is set.
type failStorage struct {
	storage.Storage
	fail *atomic.Bool
}

func (s failStorage) Create(fd storage.FileDesc) (storage.Writer, error) {
	w, err := s.Storage.Create(fd)
	if err != nil {
		return nil, err
	}
	return failWriter{w, s.fail}, nil
}

type failWriter struct {
	storage.Writer
	fail *atomic.Bool
}

var errPlanted = errors.New("planted write failure")

func (w failWriter) Write(p []byte) (int, error) {
	if w.fail.Load() {
		return 0, errPlanted
	}
	return w.Writer.Write(p)
}

// TestPruneStepFailedKeepsFloor: a prune step whose batch cannot be
// written deleted nothing, so the floor it raised for readers goes back:
// versions still stored are not answered as pruned.
func TestPruneStepFailedKeepsFloor(t *testing.T) {
	var fail atomic.Bool
	db, err := leveldb.Open(failStorage{storage.NewMemStorage(), &fail}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newStore(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.JournalStale()
	c := pruneChain(t, s)
	commitCmds(t, c, []string{"set k1 a", "set k2 b"})
	commitCmds(t, c, []string{"set k1 b"})
	commitCmds(t, c, []string{"set k1 c"})
	fail.Store(true)
	if _, _, err := s.PruneStep(2, 0); !errors.Is(err, errPlanted) {
		t.Fatalf("PruneStep = %v, want the planted failure", err)
	}
	if f := s.floor.Load(); f != 0 {
		t.Fatalf("floor %d after a failed step, want 0", f)
	}
	fail.Store(false)
}
