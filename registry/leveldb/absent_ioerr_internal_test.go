package leveldb

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// failReads makes failStor's table reads fail.
var failReads atomic.Bool

// failStor is a storage whose table reads fail while failReads is set.
type failStor struct{ storage.Storage }

func (s failStor) Open(fd storage.FileDesc) (storage.Reader, error) {
	r, err := s.Storage.Open(fd)
	if err != nil || fd.Type != storage.TypeTable {
		return r, err
	}
	return failReader{r}, nil
}

type failReader struct{ storage.Reader }

func (r failReader) ReadAt(p []byte, off int64) (int, error) {
	if failReads.Load() {
		return 0, errors.New("injected read error")
	}
	return r.Reader.ReadAt(p, off)
}

// TestAbsentBuildReadError: a read error during a build (a transient I/O
// error) leaves no filter that rules out keys the store holds. Review R21.
func TestAbsentBuildReadError(t *testing.T) {
	stor := failStor{storage.NewMemStorage()}
	db, err := leveldb.Open(stor, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newStore(db)
	if err != nil {
		t.Fatal(err)
	}
	c := pruneChain(t, s)
	for b := range 20 {
		var cmds []string
		for i := range 200 {
			cmds = append(cmds, fmt.Sprintf("set k%d.%d %0200d", b, i, i))
		}
		commitCmds(t, c, cmds)
	}
	if err := db.CompactRange(util.Range{}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	oldHook := buildHook
	buildHook = func() { failReads.Store(true) }
	defer func() { buildHook = oldHook; failReads.Store(false) }()
	db, err = leveldb.Open(stor, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err = newStore(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.absent.wg.Wait() // the build is done
	failReads.Store(false)
	for b := range 20 {
		for i := range 200 {
			if _, err := s.Get(fmt.Appendf(nil, "k%d.%d", b, i)); err != nil {
				t.Fatalf("k%d.%d after a transient read error during the build: %v (builds %d)", b, i, err, s.absent.built.Load())
			}
		}
	}
	if b := s.absent.built.Load(); b != 0 {
		t.Fatalf("%d builds completed though every one failed", b)
	}
}
