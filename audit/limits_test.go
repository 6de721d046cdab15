package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/qscope/qscope/internal/testpeer"
	"github.com/qscope/qscope/qmp"
)

// TestAuditStopsEndlessTree runs an audit against a QMP peer whose QOM tree never ends:
// every object has a child. No QEMU builds such a tree, so a test server plays the peer.
// The audit must stop with an error instead of growing without bound.
func TestAuditStopsEndlessTree(t *testing.T) {
	path := testpeer.Listen(t, func(c net.Conn) {
		fmt.Fprintln(c, `{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}}`)
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			var req struct {
				Execute string          `json:"execute"`
				ID      json.RawMessage `json:"id"`
			}
			json.Unmarshal(sc.Bytes(), &req)
			reply := map[string]string{
				"query-commands": `[{"name": "qom-list"}, {"name": "qom-list-types"}, {"name": "query-machines"}, ` +
					`{"name": "query-target"}]`,
				"query-target":   `{"arch": "x86_64"}`,
				"qom-list-types": `[]`,
				"qom-list": `[{"name": "type", "type": "string"}, ` +
					`{"name": "a", "type": "child<container>"}]`,
			}[req.Execute]
			if reply == "" {
				reply = `{}`
			}
			fmt.Fprintf(c, `{"return": %s, "id": %s}`+"\n", reply, req.ID)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := qmp.Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = Audit(ctx, conn, Options{})
	if err == nil || !strings.Contains(err.Error(), "deeper than") {
		t.Fatalf("Audit error = %v, want the tree limit", err)
	}
}
