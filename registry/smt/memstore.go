package smt

import (
	"fmt"
	"sync"
)

// MemStore is an in-memory NodeReader for tests and tools. It is safe for
// concurrent use. It never deletes nodes, so every root it has seen stays
// readable.
type MemStore struct {
	mu    sync.RWMutex
	nodes map[Hash][]byte
}

var _ NodeReader = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{nodes: make(map[Hash][]byte)}
}

// Put stores nodes, typically those returned by Update. It copies each
// encoding and trusts the given hashes.
func (m *MemStore) Put(nodes []Node) {
	buf := make([]byte, 0, len(nodes)*nodeSize)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range nodes {
		if _, ok := m.nodes[n.Hash]; ok {
			continue
		}
		start := len(buf)
		buf = append(buf, n.Encoding...)
		m.nodes[n.Hash] = buf[start:len(buf):len(buf)]
	}
}

// Node implements NodeReader. The returned slice is shared with the store
// and must not be modified.
func (m *MemStore) Node(h Hash) ([]byte, error) {
	m.mu.RLock()
	enc, ok := m.nodes[h]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("node %s: %w", h, ErrMissingNode)
	}
	return enc, nil
}

// Len returns the number of stored nodes.
func (m *MemStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.nodes)
}
