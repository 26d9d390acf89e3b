// Command spendops is the SpendOps AI API spend proxy.
package main

import (
	"fmt"
	"os"

	"github.com/spendops/spendops/internal/buildinfo"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("spendops", buildinfo.Version)
		return
	}
	fmt.Fprintln(os.Stderr, "usage: spendops serve|keys|version")
	os.Exit(2)
}
