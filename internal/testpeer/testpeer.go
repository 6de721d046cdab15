// Package testpeer starts socket servers for tests that need a peer QEMU cannot be made
// to be: a server that does not speak QMP, one that rejects capability negotiation, or
// one whose QOM tree never ends.
package testpeer

import (
	"net"
	"path/filepath"
	"testing"
)

// Listen starts a UNIX socket server in a temporary directory and returns the socket
// path. It runs serve for each connection and closes the connection when serve returns.
// The server stops when the test ends.
func Listen(t testing.TB, serve func(c net.Conn)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "peer.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return path
}
