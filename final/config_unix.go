//go:build unix

package main

import "syscall"

// openFilesLimit is the most files the process may have open: its soft
// RLIMIT_NOFILE, 0 if it cannot be read. Go raises the soft limit to just
// under the hard one as the program starts (package syscall,
// go.dev/issue/46279; on macOS, to the kernel's per-process maximum at
// most), so this is about the `ulimit -Hn` the server was started under.
func openFilesLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return uint64(lim.Cur)
}
