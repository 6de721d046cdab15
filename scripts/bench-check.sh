#!/usr/bin/env bash
# Measures, in one run on one core, how long "qscope check" takes per command line, as a
# process and in process over the whole libvirt corpus, against the time QEMU takes to
# start with -machine none -nodefaults -display none, negotiate QMP and quit. Prints each
# figure and the ratios. Needs qemu-system-x86_64 (Debian: qemu-system-x86) and the test
# corpus in shared/corpus beside the checkout (or QSCOPE_CORPUS).
#
# usage: scripts/bench-check.sh [ITERATIONS]    (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}

out=$(go test ./cli -run '^$' -bench 'BenchmarkCheckProcess|BenchmarkQEMUStart|BenchmarkCorpus' \
	-benchtime "${n}x" -cpu 1 -count 1)
echo "$out" | grep -E '^(goos|goarch|cpu|Benchmark)'

echo "$out" | awk -v qemu="$(qemu-system-x86_64 --version | head -1)" '
	/^BenchmarkCheckProcess/ { check = $3 }
	/^BenchmarkQEMUStart/    { start = $3 }
	/^BenchmarkCorpus/       { corpus = $3; per = $5 }
	END {
		if (!check || !start || !corpus) { print "missing benchmark results" > "/dev/stderr"; exit 1 }
		printf "\nbaseline: %s\n", qemu
		printf "qscope check, one process:        %8.2f ms\n", check / 1e6
		printf "QEMU start and quit:              %8.2f ms\n", start / 1e6
		printf "QEMU start / qscope check:        %8.1f x\n", start / check
		printf "whole corpus in process:          %8.1f ms (%.0f us per command line)\n", corpus / 1e6, per / 1e3
		printf "whole corpus / one QEMU start:    %8.1f x\n", corpus / start
	}'
