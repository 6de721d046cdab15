// Command qscope classifies the components of QEMU virtual machines as secure, insecure or
// undecided and judges them against a security level. Run "qscope help" for its commands.
package main

import (
	"os"

	"github.com/qscope/qscope/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
