//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package home

import (
	"io/fs"
	"syscall"
)

// ownedByOther reports fi's owner when it is not user uid (root, uid 0,
// may keep what it likes).
func ownedByOther(fi fs.FileInfo, uid int) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, uid != 0 && int(st.Uid) != uid
}
