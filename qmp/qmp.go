// Package qmp is a client for the QEMU Machine Protocol on a UNIX socket, and starts QEMU
// processes with a private QMP socket for queries and tests.
//
// It is written here instead of using github.com/digitalocean/go-qemu/qmp because that
// client returns QMP errors as plain strings, dropping the error class (GenericError,
// CommandNotFound, DeviceNotFound, ...) that callers need to tell failures apart, and its
// Run method takes no context, so a QEMU that stops replying blocks the caller forever.
// This client keeps the class in [Error], bounds every call with a context, matches replies
// to commands by id, passes asynchronous events that arrive between replies to [Conn.Events]
// and fails every pending command when QEMU closes the connection or dies.
package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Error is an error reply from QEMU.
type Error struct {
	Command string // the command that failed
	Class   string // GenericError, CommandNotFound, DeviceNotFound, ...
	Desc    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("qmp: %s: %s (%s)", e.Command, e.Desc, e.Class)
}

// ErrClosed is returned by commands that were pending or issued after the connection
// closed, wrapped with the reason when one is known.
var ErrClosed = errors.New("qmp: connection closed")

// Greeting is the message QEMU sends when a client connects.
type Greeting struct {
	QMP struct {
		Version struct {
			QEMU struct {
				Major int `json:"major"`
				Minor int `json:"minor"`
				Micro int `json:"micro"`
			} `json:"qemu"`
			Package string `json:"package"`
		} `json:"version"`
		Capabilities []string `json:"capabilities"`
	} `json:"QMP"`
}

// Version returns the QEMU version of the greeting as "major.minor.micro".
func (g *Greeting) Version() string {
	v := g.QMP.Version.QEMU
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Micro)
}

// Event is an asynchronous QMP event.
type Event struct {
	Name      string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Timestamp struct {
		Seconds      int64 `json:"seconds"`
		Microseconds int64 `json:"microseconds"`
	} `json:"timestamp"`
}

// eventBuffer is how many unread events a connection keeps before it drops new ones.
const eventBuffer = 256

// Transport is the byte stream a [Conn] runs on: a connected socket with deadlines, such
// as the *os.File that [Dial] returns or a net.Conn.
type Transport interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// Conn is a QMP connection in command mode. Its methods are safe for concurrent use.
type Conn struct {
	conn     Transport
	greeting Greeting
	events   chan Event

	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int
	pending map[string]chan reply
	err     error // cause of the close, set once
	dropped int   // count of events dropped because the channel was full
	done    chan struct{}
}

// reply is one command reply: either Return or Error is set.
type reply struct {
	Return json.RawMessage `json:"return"`
	Error  *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
	err error
}

// message is any message QEMU sends.
type message struct {
	QMP    json.RawMessage `json:"QMP"`
	Event  string          `json:"event"`
	ID     json.RawMessage `json:"id"`
	Return json.RawMessage `json:"return"`
	Error  json.RawMessage `json:"error"`
}

// Dial connects to the QMP socket at path, reads QEMU's greeting and negotiates
// capabilities. ctx bounds the whole handshake.
func Dial(ctx context.Context, path string) (*Conn, error) {
	c, err := dialUnix(ctx, path)
	if err != nil {
		return nil, dialError(path, err)
	}
	conn, err := NewConn(ctx, c)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return conn, nil
}

// dialError explains the usual reasons a UNIX socket cannot be reached.
func dialError(path string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("qmp: %s: no such socket; is the VM running with -qmp "+
			"unix:%s,server=on,wait=off?", path, path)
	case errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EACCES):
		return fmt.Errorf("qmp: %s: permission denied; run as the user that owns the "+
			"socket (for libvirt VMs, root or the qemu user)", path)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("qmp: %s: connection refused; nothing listens on the socket "+
			"(QEMU may have exited): %w", path, syscall.ECONNREFUSED)
	}
	return fmt.Errorf("qmp: connecting to %s: %w", path, err)
}

// dialUnix connects a stream socket to the UNIX socket at path. It uses the system calls
// directly rather than the net package, whose resolver makes Go link the C library and
// slows every qscope process's start by about a millisecond. The socket is non-blocking,
// so the *os.File it returns works with the runtime poller and supports deadlines.
func dialUnix(ctx context.Context, path string) (*os.File, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX,
		syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	for {
		err = syscall.Connect(fd, &syscall.SockaddrUnix{Name: path})
		if err != syscall.EAGAIN && err != syscall.EINTR {
			break
		}
		// The listener's backlog is full; QEMU accepts one client at a time.
		select {
		case <-ctx.Done():
			syscall.Close(fd)
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("connect", err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// NewConn runs the QMP handshake on an established connection: it reads the greeting and
// sends qmp_capabilities. The Conn owns c afterwards.
func NewConn(ctx context.Context, c Transport) (*Conn, error) {
	q := &Conn{conn: c, events: make(chan Event, eventBuffer),
		pending: map[string]chan reply{}, done: make(chan struct{})}
	r := bufio.NewReaderSize(c, 64*1024)
	if err := q.readGreeting(ctx, r); err != nil {
		return nil, err
	}
	go q.readLoop(r)
	if err := q.Execute(ctx, "qmp_capabilities", nil, nil); err != nil {
		q.Close()
		var qe *Error
		if errors.As(err, &qe) {
			return nil, fmt.Errorf("qmp: QEMU rejected capability negotiation: %s (%s)",
				qe.Desc, qe.Class)
		}
		return nil, err
	}
	return q, nil
}

// readGreeting reads the first message, which must be a QMP greeting.
func (q *Conn) readGreeting(ctx context.Context, r *bufio.Reader) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	q.conn.SetReadDeadline(deadline)
	defer q.conn.SetReadDeadline(time.Time{})
	line, err := r.ReadBytes('\n')
	if err != nil {
		var te interface{ Timeout() bool }
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &te) && te.Timeout() {
			return errors.New("qmp: no greeting before the deadline; the peer is not a " +
				"QMP server (or is stopped)")
		}
		if len(line) == 0 {
			return fmt.Errorf("qmp: connection closed before the greeting: %w", err)
		}
	}
	var m message
	if json.Unmarshal(line, &m) != nil || m.QMP == nil {
		return fmt.Errorf("qmp: the peer is not a QMP server: its first message is %q",
			truncate(string(line), 80))
	}
	if err := json.Unmarshal(line, &q.greeting); err != nil {
		return fmt.Errorf("qmp: invalid greeting %q: %v", truncate(string(line), 80), err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Greeting returns the greeting QEMU sent.
func (q *Conn) Greeting() Greeting { return q.greeting }

// Events returns the channel of asynchronous events. When the channel is full because no
// one reads it, new events are dropped and counted by [Conn.DroppedEvents]. The channel
// is closed when the connection closes.
func (q *Conn) Events() <-chan Event { return q.events }

// DroppedEvents returns how many events were dropped because the channel was full.
func (q *Conn) DroppedEvents() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// Done returns a channel that is closed when the connection has closed. [Conn.Err] then
// returns the cause.
func (q *Conn) Done() <-chan struct{} { return q.done }

// Err returns why the connection closed, or nil while it is open.
func (q *Conn) Err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// Close closes the connection; pending commands fail with [ErrClosed].
func (q *Conn) Close() error {
	err := q.conn.Close()
	q.fail(ErrClosed)
	return err
}

// Execute runs command with args (nil for none, or a value that encodes to a JSON object)
// and decodes the reply's "return" value into result (nil to ignore it). It returns an
// [*Error] for an error reply, and an error wrapping [ErrClosed] when the connection
// closes first. ctx bounds the wait for the reply.
func (q *Conn) Execute(ctx context.Context, command string, args, result any) error {
	raw, err := q.ExecuteRaw(ctx, command, args)
	if err != nil || result == nil {
		return err
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return fmt.Errorf("qmp: %s: decoding the reply: %w", command, err)
	}
	return nil
}

// ExecuteRaw runs command like [Conn.Execute] and returns the "return" value undecoded.
func (q *Conn) ExecuteRaw(ctx context.Context, command string, args any) (json.RawMessage,
	error) {
	q.mu.Lock()
	if q.err != nil {
		err := q.err
		q.mu.Unlock()
		return nil, fmt.Errorf("qmp: %s: %w", command, err)
	}
	q.nextID++
	id := "qscope-" + strconv.Itoa(q.nextID)
	ch := make(chan reply, 1)
	q.pending[id] = ch
	q.mu.Unlock()

	req := map[string]any{"execute": command, "id": id}
	if args != nil {
		req["arguments"] = args
	}
	data, err := json.Marshal(req)
	if err != nil {
		q.forget(id)
		return nil, fmt.Errorf("qmp: %s: encoding the arguments: %w", command, err)
	}
	q.writeMu.Lock()
	if deadline, ok := ctx.Deadline(); ok {
		q.conn.SetWriteDeadline(deadline)
	}
	_, err = q.conn.Write(append(data, '\n'))
	q.conn.SetWriteDeadline(time.Time{})
	q.writeMu.Unlock()
	if err != nil {
		q.forget(id)
		return nil, fmt.Errorf("qmp: %s: sending: %w", command, err)
	}

	select {
	case r := <-ch:
		switch {
		case r.err != nil:
			return nil, fmt.Errorf("qmp: %s: %w", command, r.err)
		case r.Error != nil:
			return nil, &Error{Command: command, Class: r.Error.Class, Desc: r.Error.Desc}
		}
		return r.Return, nil
	case <-ctx.Done():
		q.forget(id)
		return nil, fmt.Errorf("qmp: %s: no reply: %w", command, ctx.Err())
	}
}

func (q *Conn) forget(id string) {
	q.mu.Lock()
	delete(q.pending, id)
	q.mu.Unlock()
}

// readLoop reads messages until the connection fails, routing replies to their commands by
// id and events to the events channel. It alone sends on and closes the events channel.
func (q *Conn) readLoop(r *bufio.Reader) {
	defer close(q.events)
	dec := json.NewDecoder(r)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			q.fail(fmt.Errorf("%w: %v", ErrClosed, err))
			return
		}
		var m message
		if err := json.Unmarshal(raw, &m); err != nil {
			q.fail(fmt.Errorf("%w: invalid message %q", ErrClosed, truncate(string(raw), 80)))
			return
		}
		switch {
		case m.Event != "":
			q.deliverEvent(raw)
		case m.ID != nil:
			q.deliverReply(m.ID, raw)
		default:
			// A reply without an id cannot belong to a command this client sent, because
			// every command carries one; QEMU sends such replies only to other clients.
		}
	}
}

func (q *Conn) deliverEvent(raw json.RawMessage) {
	var ev Event
	if json.Unmarshal(raw, &ev) != nil {
		return
	}
	select {
	case q.events <- ev:
	default:
		q.mu.Lock()
		q.dropped++
		q.mu.Unlock()
	}
}

func (q *Conn) deliverReply(rawID, raw json.RawMessage) {
	var id string
	if json.Unmarshal(rawID, &id) != nil {
		return
	}
	q.mu.Lock()
	ch, ok := q.pending[id]
	delete(q.pending, id)
	q.mu.Unlock()
	if !ok {
		return
	}
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		r.err = fmt.Errorf("invalid reply: %v", err)
	}
	ch <- r
}

// fail closes the connection for good with err and fails every pending command.
func (q *Conn) fail(err error) {
	q.mu.Lock()
	if q.err != nil {
		q.mu.Unlock()
		return
	}
	q.err = err
	pending := q.pending
	q.pending = map[string]chan reply{}
	q.mu.Unlock()
	q.conn.Close()
	for _, ch := range pending {
		ch <- reply{err: err}
	}
	close(q.done)
}
