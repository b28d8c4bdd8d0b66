// Command setpay runs the parties of SET (Secure Electronic Transaction):
// the whole ecosystem in one process with `setpay demo`, and tools such as
// `setpay inspect` to read what they exchange.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
