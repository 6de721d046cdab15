package qmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a QEMU started by [Launch], with a QMP connection on a socket in a private
// directory.
type Process struct {
	Binary string
	Socket string
	Conn   *Conn

	dir    string
	cmd    *exec.Cmd
	output *capped
	exited chan struct{}
	err    error // the process's exit error, valid once exited is closed
}

// capped is a buffer for a child's output that keeps only the first max bytes.
type capped struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.TrimSpace(c.buf.String())
}

// Launch checks that binary is a QEMU system emulator, starts it with args and a QMP
// socket (-qmp unix:SOCKET,server=on,wait=off) in a new private directory, waits for the
// socket and connects. ctx bounds the start; the process itself lives until Close.
func Launch(ctx context.Context, binary string, args ...string) (*Process, error) {
	if err := checkQEMU(ctx, binary); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "qscope-qmp-")
	if err != nil {
		return nil, fmt.Errorf("qmp: creating a private directory: %w", err)
	}
	p := &Process{Binary: binary, Socket: filepath.Join(dir, "qmp.sock"), dir: dir,
		output: &capped{max: 64 * 1024}, exited: make(chan struct{})}
	all := append(append([]string(nil), args...), "-qmp",
		"unix:"+p.Socket+",server=on,wait=off")
	p.cmd = exec.Command(binary, all...)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	// Wait returns this long after the process exits even if a child of it still holds
	// the output pipe, so that Close cannot hang.
	p.cmd.WaitDelay = time.Second
	// Its own process group keeps terminal signals meant for qscope away from QEMU, so
	// the parent-death signal ends QEMU when qscope dies without calling Close.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("qmp: starting %s: %w", binary, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()

	if err := p.waitSocket(ctx); err != nil {
		p.Close()
		return nil, err
	}
	if p.Conn, err = p.dial(ctx); err != nil {
		p.Close()
		return nil, p.explain(err)
	}
	return p, nil
}

// dial connects to the new socket. QEMU creates the socket file with bind() before it
// calls listen(), so a connection in between is refused. dial retries refused
// connections until QEMU exits or ctx ends.
func (p *Process) dial(ctx context.Context) (*Conn, error) {
	for {
		conn, err := Dial(ctx, p.Socket)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
			return conn, err
		}
		select {
		case <-p.exited:
			return nil, err
		case <-ctx.Done():
			return nil, err
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// checkQEMU runs binary --version and requires QEMU's version banner, so that a wrong path
// fails with a clear message instead of a socket time-out.
func checkQEMU(ctx context.Context, binary string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "--version")
	// A child of the binary that keeps the output pipe open must not stall the check, so
	// the process group is killed on time-out and Wait stops waiting for the pipe.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	switch {
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("qmp: %s: not found", binary)
	case !bytes.Contains(out, []byte("QEMU emulator version")):
		msg := strings.TrimSpace(string(out))
		if msg == "" && err != nil {
			msg = err.Error()
		}
		return fmt.Errorf("qmp: %s is not a QEMU system emulator: --version printed %q",
			binary, truncate(msg, 120))
	}
	return nil
}

// waitSocket waits until the QMP socket exists, QEMU exits or ctx ends.
func (p *Process) waitSocket(ctx context.Context) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(p.Socket); err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return p.exitError()
		case <-ctx.Done():
			return fmt.Errorf("qmp: %s did not open its QMP socket: %w%s", p.Binary,
				ctx.Err(), p.outputSuffix())
		case <-tick.C:
		}
	}
}

// exitError describes a QEMU that exited during start-up, with what it printed.
func (p *Process) exitError() error {
	status := "exit status 0"
	if p.err != nil {
		status = p.err.Error()
	}
	return fmt.Errorf("qmp: %s exited during start-up (%s)%s", p.Binary, status,
		p.outputSuffix())
}

func (p *Process) outputSuffix() string {
	if out := p.output.String(); out != "" {
		return ": " + out
	}
	return ""
}

// explain adds QEMU's exit and output to a connection error when QEMU has exited.
func (p *Process) explain(err error) error {
	select {
	case <-p.exited:
		return fmt.Errorf("%w; %v", err, p.exitError())
	default:
		return err
	}
}

// Output returns what QEMU printed on stdout and stderr so far (the first 64 KiB).
func (p *Process) Output() string { return p.output.String() }

// Exited is closed when the QEMU process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Pid returns the process id of QEMU.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Close sends QEMU the quit command over QMP, kills it when it has not exited within two
// seconds, and removes the private directory.
func (p *Process) Close() error {
	if p.Conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		p.Conn.Execute(ctx, "quit", nil, nil)
		cancel()
		p.Conn.Close()
	}
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second):
		// Kill the whole process group: QEMU's helpers (and a wrong binary's children)
		// must not outlive it.
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
	return os.RemoveAll(p.dir)
}
