#!/bin/sh
# Benchmarks that print figures (never pass/fail on speed: machines are
# shared and noisy, so every figure is a ratio against a reference measured
# in the same run).
#   1. replay throughput: iotjaild --replay vs ndpiReader on the same large
#      generated capture (many short flows + bulk transfers); best of 3 each,
#      alternating so background load hits both alike.
#   2. memory per decided flow and peak RSS with 100 000 live flows.
#   3. every other bench/bench_* binary (policy load/evaluate, ...).
#   4. the live benchmark (bench/live.sh): plain bridge vs iotjaild enforcing,
#      in the namespace lab; root only, it says in one line why it skips.
set -eu
B=${B:-build}
FLOWS=${BENCH_FLOWS:-50000}
BULK_MB=${BENCH_BULK_MB:-400}
RUNS=${BENCH_RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/iotjail-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

now() { date +%s.%N; }

cap="$work/bench.pcap"
"$B/pcapgen" --flows "$FLOWS" --bulk-mb "$BULK_MB" bench "$cap"
size=$(du -m "$cap" | cut -f1)
"$B/iotjaild" --replay "$cap" -q 2>"$work/summary"
packets=$(sed -n 's/^summary: \([0-9]*\) packets.*/\1/p' "$work/summary")
flows=$(sed -n 's/.* \([0-9]*\) flows,.*/\1/p' "$work/summary")
echo "bench capture: $packets packets, $flows flows, ${size} MiB ($FLOWS short flows + $BULK_MB MB bulk)"

best_ours=999999 best_ref=999999
i=0
while [ $i -lt "$RUNS" ]; do
	t0=$(now); "$B/iotjaild" --replay "$cap" -q 2>/dev/null; t1=$(now)
	ndpiReader -q -i "$cap" >/dev/null 2>&1; t2=$(now)
	best_ours=$(echo "$t0 $t1 $best_ours" | awk '{d=$2-$1; print (d<$3)?d:$3}')
	best_ref=$(echo "$t1 $t2 $best_ref" | awk '{d=$2-$1; print (d<$3)?d:$3}')
	i=$((i + 1))
done
awk -v p="$packets" -v o="$best_ours" -v r="$best_ref" 'BEGIN {
	printf "replay throughput: iotjaild %.0f pkt/s (%.3f s), ndpiReader %.0f pkt/s (%.3f s), ratio %.2fx (target >= 3x)\n",
		p / o, o, p / r, r, r / o }'
peak=$( { /usr/bin/env time -f '%M' "$B/iotjaild" --replay "$cap" -q 2>&1 >/dev/null; } 2>&1 | tail -1 || true)
case "$peak" in ''|*[!0-9]*) ;; *) echo "replay peak RSS on this capture: $((peak / 1024)) MiB" ;; esac

for b in "$B"/bench/bench_*; do
	[ -x "$b" ] || continue		# skip .o and .d beside the binaries
	"$b"
done

B=$B sh "$(dirname "$0")/live.sh"
