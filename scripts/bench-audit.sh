#!/usr/bin/env bash
# Measures "qscope audit" of a paused default q35 VM against QEMU's own
# scripts/qmp/qom-tree on the same VM, both started as a new process per run, and prints
# each time and the ratio. qom-tree comes from a QEMU source tree (Debian: "apt-get source
# qemu" unpacks one) and runs with that tree's Python QMP library; nothing from it is
# copied here. Needs qemu-system-x86_64 (Debian: qemu-system-x86) and python3.
#
# usage: scripts/bench-audit.sh QEMU_SOURCE_DIR [ITERATIONS]    (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-${QSCOPE_QEMU_SRC:-}}
n=${2:-20}
if [ -z "$src" ] || [ ! -f "$src/scripts/qmp/qom-tree" ]; then
	echo "skipped: give a QEMU source tree that has scripts/qmp/qom-tree" \
		"(apt-get source qemu), as the first argument or in QSCOPE_QEMU_SRC" >&2
	exit 0
fi
src=$(cd "$src" && pwd)

if ! out=$(QSCOPE_QEMU_SRC="$src" go test ./audit -run '^$' \
	-bench 'BenchmarkAudit$|BenchmarkAuditProcess|BenchmarkQOMTree' \
	-benchtime "${n}x" -cpu 1 -count 1 2>&1); then
	echo "$out" >&2
	exit 1
fi
echo "$out" | grep -E '^(goos|goarch|cpu|Benchmark)'

echo "$out" | awk -v qemu="$(qemu-system-x86_64 --version | head -1)" -v src="$src" '
	/^BenchmarkAudit /        { inproc = $3 }
	/^BenchmarkAuditProcess/  { proc = $3 }
	/^BenchmarkQOMTree/       { tree = $3 }
	END {
		if (!inproc || !proc || !tree) { print "missing benchmark results" > "/dev/stderr"; exit 1 }
		printf "\nVM: %s, -machine q35 -accel tcg -S -display none\n", qemu
		printf "qom-tree from:                       %s\n", src
		printf "qscope audit, one process:        %8.1f ms\n", proc / 1e6
		printf "audit in process:                 %8.1f ms\n", inproc / 1e6
		printf "qom-tree, one process:            %8.1f ms\n", tree / 1e6
		printf "qom-tree / qscope audit:          %8.1f x\n", tree / proc
	}'
