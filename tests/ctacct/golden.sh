#!/bin/sh
# Real-kernel check of daemon/ctacct: two scratch network namespaces joined
# by a veth pair, conntrack accounting on in the first, known traffic between
# them (ICMP and UDP over IPv4 and IPv6, a TCP exchange), then that
# namespace's /proc/net/nf_conntrack read through ctacct_parse_line() and the
# tracker (tests/ctacct/ctacct-check.c), compared with what was sent and with
# nftables counters.  Only traffic between the namespaces it creates; both
# are deleted afterwards.  Prints one line per check and
# "ctacct kernel: N passed, M failed", or "ctacct kernel: SKIP: reason"
# (exit 0) when not root or something needed is missing.  POSIX sh.
#
#   sh tests/ctacct/golden.sh        (from anywhere; CC to choose a compiler)

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

skip() { echo "ctacct kernel: SKIP: $*"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip "not root"
for t in ip nft ping python3 timeout awk; do
	command -v "$t" >/dev/null 2>&1 || skip "missing tool: $t"
done
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || skip "no C compiler ($CC)"

A=ijct-test-$$-a
B=ijct-test-$$-b
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ijct-test.XXXXXX") || exit 1
PIDS=
PASS=0
FAIL=0

cleanup() {
	trap - EXIT INT TERM HUP
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "ctacct kernel: interrupted"; exit 130' INT TERM HUP

ok()  { PASS=$((PASS + 1)); echo "ok   $1${2:+: $2}"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1${2:+: $2}"; }
inA() { timeout 20 ip netns exec "$A" "$@"; }
inB() { timeout 20 ip netns exec "$B" "$@"; }
# check NAME GOT WANT
check() { [ "$2" = "$3" ] && ok "$1" "$2" || bad "$1" "got '$2', want '$3'"; }

CHK=$TMP/ctacct-check
"$CC" -std=gnu11 -O1 -g -D_GNU_SOURCE -I"$ROOT" -o "$CHK" \
	"$ROOT/tests/ctacct/ctacct-check.c" "$ROOT/daemon/ctacct.c" \
	"$ROOT/daemon/flow.c" "$ROOT/daemon/packet.c" -pthread \
	>"$TMP/cc.log" 2>&1 || skip "cannot build ctacct-check: $(head -c 200 "$TMP/cc.log")"

# --- two namespaces, a veth pair, conntrack with accounting in A ----------
ip netns add "$A" || skip "cannot create a network namespace"
ip netns add "$B" || skip "cannot create a network namespace"
ip link add ijctA netns "$A" type veth peer name ijctB netns "$B" ||
	skip "cannot create a veth pair"
inA ip link set lo up
inB ip link set lo up
inA ip addr add 10.99.0.1/24 dev ijctA
inB ip addr add 10.99.0.2/24 dev ijctB
inA ip addr add fd99::1/64 dev ijctA nodad
inB ip addr add fd99::2/64 dev ijctB nodad
inA ip link set ijctA up
inB ip link set ijctB up
# A ruleset that uses conntrack, so that the namespace tracks at all, and
# counters of the TCP exchange to compare conntrack's with.
inA nft -f - <<'EOF' || skip "nft failed"
table inet ijct {
	counter tcp_out { }
	counter tcp_in { }
	chain out {
		type filter hook output priority 0; policy accept;
		ct state new counter
		ip daddr 10.99.0.2 tcp dport 8080 counter name "tcp_out"
	}
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 10.99.0.2 tcp sport 8080 counter name "tcp_in"
	}
}
EOF
inA test -r /proc/net/nf_conntrack ||
	skip "no /proc/net/nf_conntrack (CONFIG_NF_CONNTRACK_PROCFS)"
inA sysctl -qw net.netfilter.nf_conntrack_acct=1 ||
	skip "cannot set nf_conntrack_acct in the namespace"
# No traffic before the measured one: every ICMP echo between the two hosts
# is one flow key (the echo id is not in it), so a connectivity ping would
# be counted too.

# --- servers in B: UDP replies twice the payload; TCP reads 3000, sends 7000
ip netns exec "$B" python3 -c '
import select, socket, sys, time
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind(("10.99.0.2", 5353))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.bind(("fd99::2", 5353))
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("10.99.0.2", 8080)); t.listen(1)
print("ready", flush=True)
end = time.time() + 20
while time.time() < end:
    r, _, _ = select.select([s4, s6, t], [], [], 0.5)
    for s in r:
        if s is t:
            c, _ = t.accept(); got = 0
            while got < 3000:
                d = c.recv(3000 - got)
                if not d: break
                got += len(d)
            c.sendall(b"y" * 7000); c.close()
        else:
            d, peer = s.recvfrom(2048); s.sendto(d * 2, peer)
' >"$TMP/srv.log" 2>&1 &
PIDS="$PIDS $!"
i=0
while ! grep -q ready "$TMP/srv.log" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
grep -q ready "$TMP/srv.log" || skip "server did not start: $(head -c 200 "$TMP/srv.log")"

# --- traffic from A -------------------------------------------------------
inA python3 -c '
import socket
def udp(fam, src, dst, n, size):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.bind(src); s.settimeout(3)
    for _ in range(n):
        s.sendto(b"x" * size, dst)
        assert len(s.recv(4096)) == 2 * size
udp(socket.AF_INET, ("10.99.0.1", 40000), ("10.99.0.2", 5353), 5, 100)
udp(socket.AF_INET6, ("fd99::1", 40001), ("fd99::2", 5353), 3, 50)
c = socket.create_connection(("10.99.0.2", 8080), timeout=5,
                             source_address=("10.99.0.1", 40002))
c.sendall(b"x" * 3000)
got = 0
while True:
    d = c.recv(65536)
    if not d: break
    got += len(d)
assert got == 7000, got
c.close()
' >"$TMP/cli.log" 2>&1 && ok "traffic: udp4 5x100, udp6 3x50, tcp 3000/7000" ||
	bad "traffic" "$(head -c 200 "$TMP/cli.log")"
inA ping -c 3 -i 0.2 -s 56 -W 2 10.99.0.2 >/dev/null 2>&1 || bad "ping 10.99.0.2"
inA ping -6 -c 3 -i 0.2 -s 56 -W 2 fd99::2 >/dev/null 2>&1 || bad "ping fd99::2"
# Accounting off for what starts now: one datagram to a closed port.
inA sysctl -qw net.netfilter.nf_conntrack_acct=0
inA python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.99.0.1", 40003))
s.sendto(b"z" * 10, ("10.99.0.2", 9))
'
inA sysctl -qw net.netfilter.nf_conntrack_acct=1
sleep 0.5	# the TCP close handshake and the last replies

# --- the table, through the parser ---------------------------------------
inA cat /proc/net/nf_conntrack >"$TMP/ct.txt"
"$CHK" dump "$TMP/ct.txt" >"$TMP/dump.txt"
sum=$(tail -n 1 "$TMP/dump.txt")
n=$(wc -l <"$TMP/ct.txt")
case $sum in
"lines=$n bad=0 "*) [ "$n" -ge 5 ] && ok "every line parses" "$sum" ||
	bad "every line parses" "only $n lines" ;;
*) bad "every line parses" "$sum; $(grep '^bad' "$TMP/dump.txt" | head -n 2)" ;;
esac

# entry PROTO SRC SPORT DST DPORT: the parsed line of that flow (ID field
# dropped: an ICMP echo id is the kernel's choice).
entry() {
	awk -v p="$1" -v s="$2" -v sp="$3" -v d="$4" -v dp="$5" \
		'$2 == p && $3 == s && $4 == sp && $5 == d && $6 == dp {
			print $1, $8, $9, $10, $11; exit }' "$TMP/dump.txt"
}
check "udp4 5x100 -> 5x200" "$(entry 17 10.99.0.1 40000 10.99.0.2 5353)" \
	"ok 5 640 5 1140"
check "udp6 3x50 -> 3x100" "$(entry 17 fd99::1 40001 fd99::2 5353)" \
	"ok 3 294 3 444"
check "icmp echo 3x56" "$(entry 1 10.99.0.1 0 10.99.0.2 0)" "ok 3 252 3 252"
check "icmpv6 echo 3x56" "$(entry 58 fd99::1 0 fd99::2 0)" "ok 3 312 3 312"
check "accounting off: -ENODATA" "$(entry 17 10.99.0.1 40003 10.99.0.2 9)" \
	"nodata 0 0 0 0"

# TCP: segments and ACKs are the stack's business; conntrack must agree
# with the nftables counters on the same packets.
cnt() { inA nft list counter inet ijct "$1" | awk '/packets/ { print $2, $4 }'; }
o=$(cnt tcp_out) i=$(cnt tcp_in)
check "tcp 3000/7000 = nft counters" \
	"$(entry 6 10.99.0.1 40002 10.99.0.2 8080)" "ok $o $i"
set -- $o $i
[ "${2:-0}" -ge 3000 ] && [ "${4:-0}" -ge 7000 ] &&
	ok "tcp bytes cover the payload" "out $2, in $4" ||
	bad "tcp bytes cover the payload" "out ${2:-?}, in ${4:-?}"

# --- the tracker, reading /proc itself ------------------------------------
credit() { inA "$CHK" credit "$@" /proc/net/nf_conntrack 2>&1 | sed 's/ lines=[0-9]*//'; }
check "tracker: udp4 up/down" "$(credit 17 10.99.0.1 40000 10.99.0.2 5353)" \
	"up_bytes=640 up_packets=5 down_bytes=1140 down_packets=5 matched=1 bad=0"
check "tracker: udp4, initiator on the reply side" \
	"$(credit 17 10.99.0.2 5353 10.99.0.1 40000)" \
	"up_bytes=1140 up_packets=5 down_bytes=640 down_packets=5 matched=1 bad=0"
check "tracker: icmp by its flow key (ports 0)" \
	"$(credit 1 10.99.0.1 0 10.99.0.2 0)" \
	"up_bytes=252 up_packets=3 down_bytes=252 down_packets=3 matched=1 bad=0"
check "tracker: udp6" "$(credit 17 fd99::1 40001 fd99::2 5353)" \
	"up_bytes=294 up_packets=3 down_bytes=444 down_packets=3 matched=1 bad=0"

echo "ctacct kernel: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
