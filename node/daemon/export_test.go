package daemon

// SetSyncing makes the node look, to /readyz, /v1/status and
// idmesh_sync_blocks_behind, as if a sync from peers to target ran (on)
// or none ran and the start-up sync were over (off).
func (d *Daemon) SetSyncing(on bool, target uint64) {
	d.net.target.Store(target)
	d.net.syncing.Store(on)
	if !on {
		d.net.synced.Store(true)
	}
}
