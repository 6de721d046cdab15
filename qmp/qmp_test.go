package qmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qscope/qscope/internal/testpeer"
)

// qemuBinary returns the x86_64 system emulator, or skips the test when it is not
// installed (.ci/run installs Debian's qemu-system-x86).
func qemuBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	return bin
}

func launch(t *testing.T, args ...string) *Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := []string{"-machine", "none", "-nodefaults", "-display", "none", "-S"}
	p, err := Launch(ctx, qemuBinary(t), append(base, args...)...)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestLaunchAndQuery(t *testing.T) {
	p := launch(t)
	var v struct {
		QEMU struct{ Major, Minor, Micro int } `json:"qemu"`
	}
	if err := p.Conn.Execute(ctxTimeout(t, 5*time.Second), "query-version", nil, &v); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%d.%d.%d", v.QEMU.Major, v.QEMU.Minor, v.QEMU.Micro)
	if g := p.Conn.Greeting(); got != g.Version() || v.QEMU.Major < 2 {
		t.Errorf("query-version %s, greeting %s", got, g.Version())
	}
	var types []struct{ Name string }
	err := p.Conn.Execute(ctxTimeout(t, 5*time.Second), "qom-list-types",
		map[string]any{"implements": "accel"}, &types)
	if err != nil || len(types) == 0 {
		t.Errorf("qom-list-types implements=accel: %d types, error %v", len(types), err)
	}
}

func TestErrorKeepsClass(t *testing.T) {
	p := launch(t)
	err := p.Conn.Execute(ctxTimeout(t, 5*time.Second), "no-such-command", nil, nil)
	var qe *Error
	if !errors.As(err, &qe) || qe.Class != "CommandNotFound" || qe.Command != "no-such-command" {
		t.Errorf("error = %v, want a CommandNotFound *Error", err)
	}
	err = p.Conn.Execute(ctxTimeout(t, 5*time.Second), "qom-list",
		map[string]any{"path": "/no/such/object"}, nil)
	if !errors.As(err, &qe) || qe.Class != "DeviceNotFound" && qe.Class != "GenericError" {
		t.Errorf("error = %v, want an *Error with a class", err)
	}
}

func TestEventsBetweenReplies(t *testing.T) {
	p := launch(t)
	ctx := ctxTimeout(t, 5*time.Second)
	for _, cmd := range []string{"cont", "stop", "cont"} {
		if err := p.Conn.Execute(ctx, cmd, nil, nil); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
	var names []string
	for len(names) < 3 {
		select {
		case ev := <-p.Conn.Events():
			names = append(names, ev.Name)
		case <-ctx.Done():
			t.Fatalf("events so far %v, want RESUME STOP RESUME", names)
		}
	}
	if strings.Join(names, " ") != "RESUME STOP RESUME" {
		t.Errorf("events = %v, want RESUME STOP RESUME", names)
	}
	if err := p.Conn.Execute(ctx, "query-status", nil, nil); err != nil {
		t.Errorf("command after events: %v", err)
	}
}

func TestTimeoutAndDeathMidCommand(t *testing.T) {
	p := launch(t)
	proc, _ := os.FindProcess(p.Pid())
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	err := p.Conn.Execute(ctxTimeout(t, 200*time.Millisecond), "query-status", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stopped QEMU: error = %v, want a deadline error", err)
	}

	pending := make(chan error, 1)
	go func() {
		pending <- p.Conn.Execute(context.Background(), "query-status", nil, nil)
	}()
	time.Sleep(50 * time.Millisecond)
	proc.Signal(syscall.SIGKILL)
	select {
	case err := <-pending:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("command pending when QEMU died: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("command pending when QEMU died did not return")
	}
	if err := p.Conn.Execute(ctxTimeout(t, time.Second), "query-status", nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("command after death: %v, want ErrClosed", err)
	}
}

func TestLaunchErrors(t *testing.T) {
	qemu := qemuBinary(t)
	tests := []struct {
		name   string
		binary string
		args   []string
		want   string
	}{
		{"missing binary", "/nonexistent/qemu", nil, "not found"},
		{"not qemu", "/bin/true", nil, "is not a QEMU system emulator"},
		{"qemu exits early", qemu, []string{"-machine", "no-such-machine", "-nodefaults",
			"-display", "none"}, "exited during start-up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Launch(ctxTimeout(t, 20*time.Second), tt.binary, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
	_, err := Launch(ctxTimeout(t, 20*time.Second), qemu, "-machine", "no-such-machine",
		"-nodefaults", "-display", "none")
	if err == nil || !strings.Contains(err.Error(), "unsupported machine type") {
		t.Errorf("error = %v, want QEMU's own message on stderr", err)
	}
}

const greeting = `{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, ` +
	`"package": ""}, "capabilities": ["oob"]}}` + "\n"

func TestDialErrors(t *testing.T) {
	dir := t.TempDir()
	notQMP := testpeer.Listen(t, func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n")) })
	silent := testpeer.Listen(t, func(c net.Conn) { time.Sleep(2 * time.Second) })
	rejects := testpeer.Listen(t, func(c net.Conn) {
		c.Write([]byte(greeting))
		buf := make([]byte, 4096)
		n, _ := c.Read(buf)
		id := strings.SplitN(strings.SplitN(string(buf[:n]), `"id":"`, 2)[1], `"`, 2)[0]
		fmt.Fprintf(c, `{"id": "%s", "error": {"class": "GenericError", "desc": "Capabilities negotiation is already complete"}}`+"\n", id)
	})
	closes := testpeer.Listen(t, func(c net.Conn) {})
	regular := filepath.Join(dir, "file")
	os.WriteFile(regular, nil, 0o600)
	tests := []struct {
		name string
		path string
		want string
	}{
		{"socket missing", filepath.Join(dir, "none.sock"), "no such socket"},
		{"not a socket", regular, "connection refused"},
		{"not a QMP peer", notQMP, "not a QMP server"},
		{"silent peer", silent, "no greeting before the deadline"},
		{"capabilities rejected", rejects, "rejected capability negotiation"},
		{"peer closes", closes, "connection closed before the greeting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Dial(ctxTimeout(t, 500*time.Millisecond), tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Dial error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDialErrorPermission(t *testing.T) {
	// Root bypasses file permissions, so the mapping is checked on the error value.
	err := dialError("/run/vm.qmp", &net.OpError{Op: "dial", Net: "unix",
		Err: os.NewSyscallError("connect", syscall.EACCES)})
	if !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("dialError(EACCES) = %v, want permission denied", err)
	}
}

func TestRepliesMatchedByID(t *testing.T) {
	// The peer replies to two commands in reverse order, as QEMU may for out-of-band
	// commands, and sends an event between the replies.
	path := testpeer.Listen(t, func(c net.Conn) {
		c.Write([]byte(greeting))
		buf := make([]byte, 4096)
		var ids []string
		for len(ids) < 3 {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			for _, part := range strings.Split(string(buf[:n]), `"id":"`)[1:] {
				ids = append(ids, strings.SplitN(part, `"`, 2)[0])
			}
			if len(ids) == 1 {
				fmt.Fprintf(c, `{"return": {}, "id": "%s"}`+"\n", ids[0])
			}
		}
		fmt.Fprintf(c, `{"return": "second", "id": "%s"}`+"\n", ids[2])
		c.Write([]byte(`{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}` + "\n"))
		fmt.Fprintf(c, `{"return": "first", "id": "%s"}`+"\n", ids[1])
		time.Sleep(time.Second)
	})

	q, err := Dial(ctxTimeout(t, 2*time.Second), path)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()

	type result struct {
		got string
		err error
	}
	first, second := make(chan result, 1), make(chan result, 1)
	go func() {
		var s string
		err := q.Execute(ctxTimeout(t, 2*time.Second), "first", nil, &s)
		first <- result{s, err}
	}()
	time.Sleep(50 * time.Millisecond)
	go func() {
		var s string
		err := q.Execute(ctxTimeout(t, 2*time.Second), "second", nil, &s)
		second <- result{s, err}
	}()

	if r := <-first; r.err != nil || r.got != "first" {
		t.Errorf("first = %q, %v", r.got, r.err)
	}
	if r := <-second; r.err != nil || r.got != "second" {
		t.Errorf("second = %q, %v", r.got, r.err)
	}
	if ev := <-q.Events(); ev.Name != "STOP" || ev.Timestamp.Microseconds != 2 {
		t.Errorf("event = %+v, want STOP", ev)
	}
}
