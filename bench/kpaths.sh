#!/bin/sh
# Where the jail's cost goes: the lab's new-flow rates (netrr udp-rr and
# tcp-crr, laptop -> server across br0) through the plain bridge and through
# kernel paths built by hand, without the daemon, next to the daemon's own
# kinds.  Each round measures plain, then every other kind, one second each;
# a ratio is taken against the same round's plain and the median over the
# rounds is printed with its quartiles.  Prints figures, never fails on
# speed.  Root; the lab tools (tests/lab/README.md); about 3 s per kind and
# round.
#
#   B=build sh bench/kpaths.sh [KIND...]      (default: all kinds)
#   KPATHS_ROUNDS=8  KPATHS_SECONDS=1
#
# Kinds (the laptop is 02:00:00:00:00:50:50 / 192.168.50.50; the lab's
# `lan` prefixes are .8/29 and .48/29, the server .3 is "WAN"):
#   brnf      bridge netfilter on, no rules
#   ct        conntrack: a forward chain with `ct state established accept`
#   ctmark    the trusted rule by hand: ct mark set at the first packet,
#             then accepted by the mark
#   notrack   the laptop's WAN traffic untracked both ways, accepted
#             statelessly
#   nflog     ctmark, and every packet of a flow's first 8 copied to NFLOG
#             group 5, read by tcpdump into /dev/null
#   jail trusted observed
#             iotjaild with docs/examples/lab.yaml, the laptop inspected,
#             `trusted: true`, `trusted: observed`
# Only traffic between the lab's namespaces; all removed on exit.  POSIX sh.

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 1
B=${B:-$ROOT/build}
[ -d "$B" ] && B=$(cd "$B" && pwd)
cd "$ROOT" || exit 1
ROUNDS=${KPATHS_ROUNDS:-8}
SECS=${KPATHS_SECONDS:-1}
KINDS=${*:-brnf ct ctmark notrack nflog jail trusted observed}
SRV=192.168.50.3
LAPTOP_MAC=02:00:00:00:50:50
LAPTOP=192.168.50.50
LANP=192.168.50.48/29

skip() { echo "kpaths: SKIP: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "not root"
for t in ip nft sysctl python3 tcpdump; do
	command -v "$t" >/dev/null 2>&1 || skip "missing tool: $t"
done
for f in "$B/iotjaild" "$B/netrr"; do
	[ -x "$f" ] || { echo "kpaths: $f not built (make)" >&2; exit 1; }
done

P=$(printf 'ijk%s' "$$" | cut -c1-10)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/iotjail-kpaths.XXXXXX") || exit 1
srv_pid='' bg_pid=''

br() { ip netns exec "$P-br" "$@"; }

stop_bg() {
	[ -n "$bg_pid" ] || return 0
	kill "$bg_pid" 2>/dev/null
	wait "$bg_pid" 2>/dev/null
	bg_pid=''
}

reset() {
	stop_bg
	br nft delete table inet iotjail 2>/dev/null
	br nft delete table inet kpaths 2>/dev/null
	br sysctl -qw net.bridge.bridge-nf-call-iptables=0
	br sysctl -qw net.bridge.bridge-nf-call-ip6tables=0
}

cleanup() {
	trap - EXIT INT TERM HUP
	reset 2>/dev/null
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
	LAB_QUIET=1 sh tests/lab/lab.sh down "$P"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# table FORWARD-RULES [PREROUTING-RULES]: table inet kpaths, bridge
# netfilter on.
table() {
	br sysctl -qw net.bridge.bridge-nf-call-iptables=1
	br nft -f - <<EOF
table inet kpaths {
	chain raw {
		type filter hook prerouting priority raw;
		${2:-}
	}
	chain f {
		type filter hook forward priority 0;
		$1
	}
}
EOF
}

daemon() {	# daemon POLICY: iotjaild in the bridge namespace, up
	rm -f "/run/$P/kp.pid"
	ip netns exec "$P-br" "$B/iotjaild" -f -q -c "$1" --bridge br0 \
		--pid-file "/run/$P/kp.pid" --alerts "/run/$P/kp.jsonl" --state '' \
		--control '' >"$TMP/daemon.log" 2>&1 </dev/null &
	bg_pid=$!
	_i=0
	while [ ! -s "/run/$P/kp.pid" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

setup() {	# setup KIND
	reset
	ctmark="ct mark & 0xff03 == 0x101 accept
		ether saddr $LAPTOP_MAC ip saddr $LAPTOP ip daddr != $LANP ct mark set 0x101"
	case $1 in
	plain) ;;
	brnf) br sysctl -qw net.bridge.bridge-nf-call-iptables=1 ;;
	ct) table "ct state established accept" ;;
	ctmark) table "$ctmark accept" ;;
	notrack) table "ct state untracked ether saddr $LAPTOP_MAC ip saddr $LAPTOP ip daddr != $LANP accept
		ct state untracked ether daddr $LAPTOP_MAC ip daddr $LAPTOP ip saddr != $LANP accept
		ct mark & 0xff03 == 0x101 accept" \
		"ether saddr $LAPTOP_MAC ip saddr $LAPTOP ip daddr != $LANP notrack
		ether daddr $LAPTOP_MAC ip daddr $LAPTOP ip saddr != $LANP notrack" ;;
	nflog)	table "ct mark 0x101 ct packets <= 8 log group 5 snaplen 256 queue-threshold 16
		$ctmark log group 5 snaplen 256 queue-threshold 16 accept"
		ip netns exec "$P-br" tcpdump -i nflog:5 -w /dev/null -q >/dev/null 2>&1 &
		bg_pid=$!
		sleep 0.5 ;;
	jail) daemon docs/examples/lab.yaml ;;
	trusted|observed)
		sed "/^    profile: laptop\$/a\\    trusted: $([ "$1" = trusted ] && echo true || echo observed)" \
			docs/examples/lab.yaml >"$TMP/$1.yaml"
		daemon "$TMP/$1.yaml" ;;
	*) echo "kpaths: unknown kind $1" >&2; exit 2 ;;
	esac
}

rate() {	# rate udp-rr|tcp-crr [OPTIONS]: transactions/s
	_what=$1
	shift
	command -v conntrack >/dev/null 2>&1 && br conntrack -F >/dev/null 2>&1
	ip netns exec "$P-laptop" "$B/netrr" "$_what" $SRV 7007 "$SECS" "$@" 2>/dev/null |
		cut -d' ' -f2
}

LAB_QUIET=1 sh tests/lab/lab.sh up "$P" || { echo "kpaths: lab up failed" >&2; exit 1; }
ip netns exec "$P-laptop" sysctl -qw "net.ipv4.ip_local_port_range=1024 65535"
ip netns exec "$P-srv" "$B/netrr" server -p 7007 -n 16 >/dev/null 2>&1 </dev/null &
srv_pid=$!
sleep 1
echo "kpaths: lab $P, $ROUNDS rounds of plain + ($KINDS), ${SECS} s per rate"
: >"$TMP/rounds"
r=1
while [ $r -le "$ROUNDS" ]; do
	for k in plain $KINDS; do
		setup "$k"
		echo "$r $k $(rate udp-rr -n 16) $(rate tcp-crr)" >>"$TMP/rounds"
	done
	r=$((r + 1))
done
[ -n "${KPATHS_DEBUG:-}" ] && cat "$TMP/rounds"
python3 - "$TMP/rounds" <<'PY'
import statistics, sys

rounds = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 4:
        rounds.setdefault(f[0], {})[f[1]] = (float(f[2]), float(f[3]))
kinds = []
for r in rounds.values():
    kinds += [k for k in r if k != "plain" and k not in kinds]
for k in kinds:
    out = []
    for i, what in ((0, "udp-rr"), (1, "tcp-crr")):
        rs = sorted(r[k][i] / r["plain"][i] for r in rounds.values()
                    if k in r and "plain" in r and r["plain"][i] > 0)
        if len(rs) >= 2:
            q = statistics.quantiles(rs, n=4)
            out.append("%s %.2f (%.2f-%.2f)" % (what, statistics.median(rs), q[0], q[2]))
        elif rs:
            out.append("%s %.2f" % (what, rs[0]))
    print("kpaths %-8s vs plain, median (quartiles) of %d rounds: %s" %
          (k, len(rounds), ", ".join(out)))
PY
