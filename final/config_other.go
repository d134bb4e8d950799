//go:build !unix

package main

// openFilesLimit is 0, not known: outside Unix there is no RLIMIT_NOFILE
// to read, and so no warning about it.
func openFilesLimit() uint64 { return 0 }
