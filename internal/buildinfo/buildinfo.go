// Package buildinfo holds the version stamped into the binary at build time.
package buildinfo

// Version is set by -ldflags at build time; "dev" otherwise.
var Version = "dev"
