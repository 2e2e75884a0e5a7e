#!/bin/sh
# Live benchmark: the namespace lab (tests/lab) through a plain bridge vs the
# same bridge with iotjaild enforcing docs/examples/lab.yaml, in one lab and
# one run.  From the laptop namespace to the lab server (192.168.50.3):
#   - TCP bulk throughput (iperf3)
#   - TCP connect + 64-byte request + 64-byte response + close rate (netrr tcp-crr)
#   - UDP request/response rate, a new flow each (netrr udp-rr)
#   - ping latency p50 / p99
# Each round measures four kinds one after the other, in an order that
# rotates from round to round: plain, jailed (the laptop inspected: its
# profile allows everything out, and every new flow is queued to userspace
# once, decided at its first packet, then the kernel keeps the verdict in the
# conntrack mark), trusted (the same policy with the laptop `trusted: true`,
# so its flows are decided by the kernel's trusted rules without a round
# trip, unseen by the daemon) and observed (`trusted: observed`: decided in
# the kernel too, and each flow's first packet copied to the daemon through
# NFLOG, not held).  A ratio is taken within each round (jailed / plain of
# the same round) and the median over the rounds is reported with its
# range: the machine's speed drifts by tens of percent within a minute, and
# pairing cancels what the phases of a round share.
# Prints figures and ratios; never fails on speed.
#
#   B=build sh bench/live.sh        (root; `make bench-live`)
#   BENCH_LIVE_RUNS=7  BENCH_LIVE_SECONDS=2  BENCH_LIVE_PINGS=200
#
# Skips (exit 0) when not root or a lab tool is missing.  If iotjaild cannot
# run live, prints the plain figures and "jailed half skipped: <reason>".
# All traffic stays in the lab's namespaces; all of them, the netrr server
# and the daemon are removed on exit, INT and TERM.  POSIX sh.

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 1
B=${B:-$ROOT/build}
[ -d "$B" ] && B=$(cd "$B" && pwd)	# as the caller named it, before the cd
cd "$ROOT" || exit 1
LAB=tests/lab/lab.sh
POLICY=docs/examples/lab.yaml
RUNS=${BENCH_LIVE_RUNS:-7}
SECS=${BENCH_LIVE_SECONDS:-2}
PINGS=${BENCH_LIVE_PINGS:-200}
SRV=192.168.50.3
PORT=7007
NPORTS=16	# UDP server ports: 64 k source ports x 16 = 1 M new 5-tuples per run

skip() { echo "live bench: SKIP: $*"; exit 0; }
die() { echo "live bench: error: $*" >&2; exit 1; }

for v in "$RUNS" "$SECS" "$PINGS"; do
	case $v in
	''|*[!0-9]*|0) die "BENCH_LIVE_RUNS, _SECONDS and _PINGS must be positive integers" ;;
	esac
done
[ "$(id -u)" -eq 0 ] || skip "not root"
for t in ip ss sysctl timeout dnsmasq mosquitto mosquitto_pub openssl iperf3 python3 dig curl \
	ping awk sort; do
	command -v "$t" >/dev/null 2>&1 || skip "missing tool: $t (see tests/lab/README.md)"
done
for f in "$B/iotjaild" "$B/netrr"; do
	[ -x "$f" ] || die "$f not built (make)"
done

P=$(printf 'ijb%s' "$$" | cut -c1-10)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/iotjail-live.XXXXXX") || exit 1
PIDF=/run/$P/iotjaild.pid
srv_pid='' dpid='' skipped=''

# ------------------------------------------------------------ teardown ---

stop_daemon() {
	[ -n "$dpid" ] || return 0
	kill -TERM "$dpid" 2>/dev/null
	_i=0
	while kill -0 "$dpid" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if kill -0 "$dpid" 2>/dev/null; then
		echo "live bench: iotjaild did not exit within 10 s of SIGTERM; killed" >&2
		kill -KILL "$dpid" 2>/dev/null
	fi
	wait "$dpid" 2>/dev/null
	_st=$?
	[ $_st -eq 0 ] || echo "live bench: iotjaild exited with status $_st: $(log_tail)" >&2
	dpid=''
	# A daemon that dies leaves its table (by design: verdicts survive it);
	# the next plain phase must not run through it.
	if in_ns br nft list table inet iotjail >/dev/null 2>&1; then
		echo "live bench: iotjaild left table inet iotjail behind; deleting it" >&2
		in_ns br nft delete table inet iotjail
	fi
}

cleanup() {
	trap - EXIT INT TERM HUP
	stop_daemon
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
	LAB_QUIET=1 sh "$LAB" down "$P"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "live bench: interrupted"; exit 130' INT TERM HUP

in_ns() { _n=$1; shift; ip netns exec "$P-$_n" "$@"; }

# ---------------------------------------------------------- measuring ---

# Each prints one number, or nothing if the measurement failed.
bulk() {	# Gbit/s received, first second (slow start) omitted
	timeout $((SECS + 20)) ip netns exec "$P-laptop" iperf3 -c $SRV -t "$SECS" -O 1 -J \
		>"$TMP/iperf.json" 2>&1
	python3 -c 'import json, sys
try:
    print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    pass' "$TMP/iperf.json"
}

rr() {		# transactions/s; $@ = tcp-crr|udp-rr [OPTIONS]
	in_ns laptop "$B/netrr" "$@" $SRV $PORT "$SECS" >"$TMP/rr.out" 2>"$TMP/rr.err"
	# "tcp_crr RATE count=N errors=N timeouts=N ..." -> "RATE N N N ..."
	sed -n 's/^[a-z_]* //; s/[a-z]*=//gp' "$TMP/rr.out" >"$TMP/rr.fig"
	[ -s "$TMP/rr.err" ] && sed 's/^/live bench: /' "$TMP/rr.err" >&2
	cut -d' ' -f1 "$TMP/rr.fig"
}

ping_us() {	# "p50 p99" in microseconds
	timeout $((PINGS / 100 + 20)) ip netns exec "$P-laptop" \
		ping -n -i 0.01 -c "$PINGS" -W 1 $SRV >"$TMP/ping.out" 2>&1
	grep -o 'time=[0-9.]*' "$TMP/ping.out" | cut -d= -f2 | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) exit
			p50 = int(NR * 0.50 + 0.999); p99 = int(NR * 0.99 + 0.999)
			printf "%.0f %.0f\n", v[p50] * 1000, v[p99] * 1000
		}'
}

# nft counter (packets) of the rule with comment $1, while the daemon runs.
ctr() {
	in_ns br nft list table inet iotjail 2>/dev/null |
		sed -n "s/.*counter packets \([0-9]*\) bytes .*comment \"$1\".*/\1/p" | head -n 1
}

# per_flow QUEUE_BEFORE QUEUE_AFTER TRANSACTIONS: queued packets per transaction
per_flow() {
	awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {
		if (a == "" || b == "" || n + 0 == 0) print "n/a"
		else printf "%.2f\n", (b - a) / n }'
}

# phase plain|jail|trusted RUN: one round of the four measurements, printed
# and appended to $TMP/rounds as "RUN KIND BULK CRR UDP P50 P99" (- when a
# measurement failed).
phase() {
	_k=$1 _r=$2
	if command -v conntrack >/dev/null 2>&1; then
		in_ns br conntrack -F >/dev/null 2>&1	# every phase starts from new flows
	fi
	_bulk=$(bulk)
	_q0=$(ctr queue)
	_crr=$(rr tcp-crr)
	read -r _ _crrn _crre _ <"$TMP/rr.fig"
	_crrq=$(per_flow "$_q0" "$(ctr queue)" "$_crrn")
	_q1=$(ctr queue)
	_udp=$(rr udp-rr -n $NPORTS)
	read -r _ _udpn _ _udpt _ <"$TMP/rr.fig"
	_udpq=$(per_flow "$_q1" "$(ctr queue)" "$_udpn")
	_ping=$(ping_us)
	_p50=${_ping% *} _p99=${_ping#* }
	printf 'live run %s %-8s bulk %s Gbit/s, tcp-crr %s/s (%s errors), ' \
		"$_r" "$_k:" "${_bulk:-FAILED}" "${_crr:-FAILED}" "${_crre:-?}"
	printf 'udp-rr %s/s (%s timeouts), ping p50 %s us p99 %s us\n' \
		"${_udp:-FAILED}" "${_udpt:-?}" "${_p50:-FAILED}" "${_p99:-FAILED}"
	if [ "$_k" != plain ]; then
		printf 'live run %s %-8s queued packets per new flow: tcp-crr %s, udp-rr %s; ' \
			"$_r" "$_k:" "$_crrq" "$_udpq"
		printf 'counters now: queue %s, allow %s, trusted %s, observed %s, budget %s, deny %s\n' \
			"$(ctr queue)" "$(ctr allow)" "$(ctr trusted)" "$(ctr observed)" "$(ctr budget)" \
			"$(ctr deny)"
	fi
	echo "$_r $_k ${_bulk:--} ${_crr:--} ${_udp:--} ${_p50:--} ${_p99:--}" >>"$TMP/rounds"
}

# Start iotjaild in the bridge namespace; ready when its pid file exists.
# On failure sets $skipped to the reason and returns 1.
start_daemon() {	# start_daemon POLICY
	rm -f "$PIDF" "/run/$P/alerts.jsonl"
	ip netns exec "$P-br" "$B/iotjaild" -f -q -c "$1" --bridge br0 --pid-file "$PIDF" \
		--alerts "/run/$P/alerts.jsonl" --state "" --control "" >"$TMP/daemon.log" 2>&1 </dev/null &
	dpid=$!
	_i=0
	while [ $_i -lt 100 ]; do	# 10 s
		[ -s "$PIDF" ] && return 0
		if ! kill -0 "$dpid" 2>/dev/null; then
			wait "$dpid"
			_st=$?
			skipped="iotjaild exited with status $_st at start-up: $(log_tail)"
			dpid=''
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	skipped="iotjaild wrote no pid file within 10 s: $(log_tail)"
	stop_daemon
	return 1
}

log_tail() { tail -n 2 "$TMP/daemon.log" | tr '\n' ' '; }

# ---------------------------------------------------------------- main ---

T0=$(date +%s)
LAB_QUIET=1 sh "$LAB" up "$P" || die "lab up failed"
# Room for a new UDP source port per transaction (netrr udp-rr) in one run.
in_ns laptop sysctl -qw "net.ipv4.ip_local_port_range=1024 65535"
in_ns srv "$B/netrr" server -p $PORT -n $NPORTS >"$TMP/netrr.log" 2>&1 </dev/null &
srv_pid=$!
i=0
until in_ns srv ss -Hltn "sport = :$PORT" | grep -q .; do
	i=$((i + 1))
	if [ $i -ge 50 ] || ! kill -0 "$srv_pid" 2>/dev/null; then
		die "netrr server did not start: $(cat "$TMP/netrr.log")"
	fi
	sleep 0.1
done
echo "live bench: lab $P, laptop 192.168.50.50 -> server $SRV through br0;" \
	"$RUNS rounds of plain, jailed, trusted and observed, ${SECS} s per rate, $PINGS pings at 10 ms"

# The same policy with the laptop trusted (docs/policy.md): its flows to the
# server are decided in the kernel at their first packet; observed: the
# same, and that first packet is copied to the daemon (NFLOG), not held.
sed '/^    profile: laptop$/a\    trusted: true' "$POLICY" >"$TMP/trusted.yaml"
sed '/^    profile: laptop$/a\    trusted: observed' "$POLICY" >"$TMP/observed.yaml"

# One round: the four kinds in an order that rotates with the round.
round() {	# round RUN
	case $(($1 % 4)) in
	1) _order="plain jail trusted observed" ;;
	2) _order="jail trusted observed plain" ;;
	3) _order="trusted observed plain jail" ;;
	*) _order="observed plain jail trusted" ;;
	esac
	for kind in $_order; do
		if [ $kind = plain ]; then
			phase plain "$1"
			continue
		fi
		pol=$POLICY
		[ $kind != jail ] && pol=$TMP/$kind.yaml
		if [ -z "$skipped" ] && start_daemon "$pol"; then
			phase $kind "$1"
			alerts=0
			[ -f "/run/$P/alerts.jsonl" ] && alerts=$(wc -l <"/run/$P/alerts.jsonl")
			stop_daemon
			printf 'live run %s %-8s iotjaild stopped; %s alert lines\n' \
				"$1" "$kind:" "$alerts"
		fi
	done
}

: >"$TMP/rounds"
run=1
while [ $run -le "$RUNS" ]; do
	round $run
	run=$((run + 1))
done

# The summary: medians over the rounds; a ratio (or an added latency) is
# taken within a round, then its median and range over the rounds.
python3 - "$TMP/rounds" <<'PY'
import statistics, sys

rounds = {}
for line in open(sys.argv[1]):
    run, kind, *v = line.split()
    rounds.setdefault(run, {})[kind] = [None if x == "-" else float(x) for x in v]
FIG = [("tcp bulk", 0, " Gbit/s", "%.2f", ">= 0.98"),
       ("tcp connect+request+response", 1, "/s", "%.0f", ">= 0.80"),
       ("udp request/response, new flow each", 2, "/s", "%.0f", ">= 0.80")]

def col(kind, i):
    return [r[kind][i] for r in rounds.values() if kind in r and r[kind][i] is not None]

def med(xs, f):
    return (f % statistics.median(xs)) if xs else "FAILED"

def paired(kind, fn):
    return [fn(r["plain"], r[kind]) for r in rounds.values()
            if "plain" in r and kind in r and fn(r["plain"], r[kind]) is not None]

def ratio(i):
    return lambda p, j: None if p[i] is None or j[i] is None or p[i] == 0 else j[i] / p[i]

def added_p99(p, j):
    return None if p[4] is None or j[4] is None else j[4] - p[4]

kinds = [k for k in ("jail", "trusted", "observed") if col(k, 0) or col(k, 1) or col(k, 2)]
if not kinds:
    for what, i, unit, f, _ in FIG:
        print("live %s: plain %s%s (median of %d rounds)" % (what, med(col("plain", i), f), unit,
                                                            len(col("plain", i))))
    print("live ping: plain p50 %s us p99 %s us" % (med(col("plain", 3), "%.0f"),
                                                  med(col("plain", 4), "%.0f")))
for kind in kinds:
    n = len(paired(kind, lambda p, j: 0))
    print({"jail": "live, the laptop inspected (every new flow queued once)",
           "trusted": "live, the laptop trusted (its flows decided in the kernel)",
           "observed": "live, the laptop observed (decided in the kernel, first packets copied to the daemon)"}[kind] +
          ": medians of %d rounds, ratios within a round (range over the rounds):" % n)
    for what, i, unit, f, target in FIG:
        rs = paired(kind, ratio(i))
        print("live %s: plain %s%s, jailed %s%s, ratio %s (%s) (target %s)" % (
            what, med(col("plain", i), f), unit, med(col(kind, i), f), unit,
            med(rs, "%.2f"), "%.2f-%.2f" % (min(rs), max(rs)) if rs else "n/a", target))
    print("live ping: plain p50 %s us p99 %s us, jailed p50 %s us p99 %s us" % (
        med(col("plain", 3), "%.0f"), med(col("plain", 4), "%.0f"),
        med(col(kind, 3), "%.0f"), med(col(kind, 4), "%.0f")))
    ds = paired(kind, added_p99)
    print("live added p99 latency: %s (%s) (target <= 50 us)" % (
        med(ds, "%+.0f us"), "%+.0f..%+.0f us" % (min(ds), max(ds)) if ds else "n/a"))
PY
[ -n "$skipped" ] && echo "live bench: jailed half skipped: $skipped"
echo "live bench: total $(($(date +%s) - T0)) s"
exit 0
