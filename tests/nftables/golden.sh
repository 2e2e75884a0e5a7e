#!/bin/sh
# Kernel tests of the nftables/ library, run from the repository root by
# `make golden` (B=build or build-san).  Root only: everything happens in
# scratch network namespaces named ijnft-test-PID[-a|-b], deleted on exit.
#
# The driver tests/nftables/nftdrv.c is compiled here against nftables/nft.c
# (the Makefile does not build it).  Checks:
#   - the queue probe reports native or xt and leaves nothing behind; a
#     batch the kernel refuses is named by its failing message and leaves
#     nothing behind either (atomic);
#   - install creates the table, both chains (forward, verdict) and their
#     rules; installing twice gives one table and one set of rules;
#     set_generation changes only the generation; quarantine add/del (with
#     timeout, and timeout replacement); remove;
#   - traffic through a bridge between two more namespaces: the budget,
#     quarantine, deny and allow ct marks, a stale generation re-queued,
#     fail-closed dropping while no daemon listens; the verdict chain fed
#     with packet marks as the daemon sets them (allow and deny copied into
#     conntrack with other bits kept, packet bits cleared, stale or
#     first-packet denies dropped); reject answered with an ICMP
#     admin-prohibited or a TCP reset, and the daemon's own refusal passed
#     (pass bit); pure TCP ACKs not queued (`ack`);
#     ijnft_counters() against nft's listing, and carried over a reload.
# `nft` (Debian package nftables) is needed for the listing checks and
# `ip` (iproute2) for namespaces; missing tools skip, they do not fail.
set -u
B=${B:-build}
pass=0
fail=0

skip() {
	echo "nftables: SKIP: $*"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip "not root"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) not installed"
ip netns list >/dev/null 2>&1 || skip "ip netns unavailable"
libs=$(pkg-config --cflags --libs libnftnl libmnl 2>/dev/null) ||
	skip "libnftnl/libmnl development files missing"
HAVE_NFT=1
command -v nft >/dev/null 2>&1 || HAVE_NFT=0

NS=ijnft-test-$$
NSA=$NS-a
NSB=$NS-b
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nftables-golden.XXXXXX")
cleanup() {
	for n in "$NSA" "$NSB" "$NS"; do
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

san=
case $B in *san*) san="-fsanitize=address,undefined -fno-sanitize-recover=undefined" ;; esac
# shellcheck disable=SC2086 # word splitting of the flags is intended
if ! ${CC:-cc} -std=gnu11 -D_GNU_SOURCE -I. -O1 -g -Wall -Wextra $san \
	-o "$tmp/nftdrv" nftables/nft.c tests/nftables/nftdrv.c $libs; then
	echo "FAIL: cannot compile tests/nftables/nftdrv.c"
	echo "nftables: 0 passed, 1 failed"
	exit 1
fi
ip netns add "$NS" || skip "cannot create a network namespace"

ok() { pass=$((pass + 1)); }
ko() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}
drv() { ip netns exec "$NS" "$tmp/nftdrv" "$@"; }
# The table as nft prints it; its stderr (warnings about the xt target it
# cannot print in an inet table) is not part of the listing.
listing() { ip netns exec "$NS" nft list table inet iotjail 2>/dev/null; }
tables() { ip netns exec "$NS" nft list tables 2>/dev/null; }
has() { # has DESCRIPTION FIXED-STRING: the listing contains the string
	if listing | grep -qF -- "$2"; then ok; else
		ko "$1: listing lacks: $2"
		listing | sed 's/^/  /'
	fi
}
lacks() {
	if listing | grep -qF -- "$2"; then
		ko "$1: listing has: $2"
	else ok; fi
}
expect() { # expect DESCRIPTION WANTED ACTUAL
	if [ "$2" = "$3" ]; then ok; else ko "$1: expected '$2', got '$3'"; fi
}
run() { # run DESCRIPTION COMMAND...: the command succeeds
	desc=$1
	shift
	if out=$("$@" 2>&1); then ok; else
		ko "$desc: failed: $out"
	fi
}

# --- probe and error mapping ------------------------------------------------
kind=$(drv probe 2>&1)
case $kind in
native | xt) ok ;;
*) ko "probe: $kind" ;;
esac
echo "nftables: queue kind on this kernel: $kind"
if [ "$HAVE_NFT" = 1 ]; then
	expect "probe leaves no table" "" "$(tables)"
fi
if [ "$kind" = xt ]; then
	# The native expression is missing: the batch fails at the queue rule,
	# says so, and the kernel keeps nothing of it.
	out=$(drv install kind=native 2>&1)
	expect "native install on an xt kernel" \
		"nftdrv: install: No such file or directory (add rule queue)" "$out"
	[ "$HAVE_NFT" = 1 ] && expect "failed install leaves no table" "" "$(tables)"
fi

# --- install, idempotence, generation ----------------------------------------
run "install" drv install bridge=br-jail gen=1 inspect=3 queue=0:2
run "install again" drv install bridge=br-jail gen=1 inspect=3 queue=0:2
if [ "$HAVE_NFT" = 1 ]; then
	expect "one table after two installs" "table inet iotjail" "$(tables)"
	expect "fourteen counted rules after two installs" 14 "$(listing | grep -c 'comment "')"
	expect "three ct mark writers after two installs" 3 "$(listing | grep -c 'ct mark set')"
	expect "rule order (forward, then verdict)" \
		"scope quarantine deny reject reject allow budget ack queue mark allow mark pass mark deny mark reject mark reject" \
		"$(listing | sed -n 's/.*comment "\([^"]*\)"$/\1/p' | paste -sd ' ')"
	has "chain" "type filter hook forward priority filter - 5; policy accept;"
	has "verdict chain" "type filter hook forward priority filter - 4; policy accept;"
	expect "chains" "forward verdict" \
		"$(listing | sed -n 's/^[[:space:]]*chain \([a-z]*\) {$/\1/p' | paste -sd ' ')"
	has "lan set" 'elements = { "br-jail" }'
	has "scope" 'iifname != @lan_ifs oifname != @lan_ifs return comment "scope"'
	has "quarantine" 'ether saddr @quarantine counter packets 0 bytes 0 drop comment "quarantine"'
	has "deny" 'ct mark & 0x0000ff03 == 0x00000102 counter packets 0 bytes 0 drop comment "deny"'
	has "reject tcp" 'ct mark & 0x0000ff03 == 0x00000103 meta l4proto tcp counter packets 0 bytes 0 reject with tcp reset comment "reject"'
	has "reject" 'ct mark & 0x0000ff03 == 0x00000103 counter packets 0 bytes 0 reject with icmpx admin-prohibited comment "reject"'
	has "allow" 'ct mark & 0x0000ff03 == 0x00000101 counter packets 0 bytes 0 accept comment "allow"'
	has "budget" 'ct mark & 0x00000003 == 0x00000000 ct packets > 3 counter packets 0 bytes 0 accept comment "budget"'
	has "ack" 'tcp flags ack / fin,syn,rst,psh,ack meta length <= 100 counter packets 0 bytes 0 accept comment "ack"'
	# nft 1.0.6 prints (x & 0xffff00fc) ^ 0x101 as x & 0xffff01fd | 0x101:
	# the same function (the xor bits lie outside the mask).
	has "mark allow" 'meta mark & 0x0000ff03 == 0x00000101 ct mark set ct mark & 0xffff01fd | 0x00000101 meta mark set meta mark & 0xffff00fc counter packets 0 bytes 0 accept comment "mark allow"'
	has "mark deny (copy)" 'meta mark & 0x0000ff03 == 0x00000102 ct mark set ct mark & 0xffff01fe | 0x00000102'
	has "mark deny (drop)" 'meta mark & 0x00000003 == 0x00000002 counter packets 0 bytes 0 drop comment "mark deny"'
	has "mark reject (copy)" 'meta mark & 0x0000ff03 == 0x00000103 ct mark set ct mark & 0xffff01ff | 0x00000103'
	has "mark pass" 'meta mark & 0x00000007 == 0x00000007 meta mark set meta mark & 0xffff00f8 counter packets 0 bytes 0 accept comment "mark pass"'
	has "mark reject tcp" 'meta mark & 0x00000003 == 0x00000003 meta l4proto tcp counter packets 0 bytes 0 reject with tcp reset comment "mark reject"'
	has "mark reject" 'meta mark & 0x00000003 == 0x00000003 counter packets 0 bytes 0 reject with icmpx admin-prohibited comment "mark reject"'
	if [ "$kind" = native ]; then
		# nft's spelling of the statement changed across versions;
		# the range and the bypass flag are what matters.
		has "queue" 'comment "queue"'
		expect "queue bypass" 1 "$(listing | grep 'comment "queue"' | grep -c 'queue.*bypass.*0-1')"
	else
		# nft cannot print an xt target in an inet table: the rule
		# shows its counter and comment only.
		has "queue" 'comment "queue"'
	fi

	listing >"$tmp/before"
	run "set_generation" drv generation bridge=br-jail gen=2 inspect=3 queue=0:2
	listing >"$tmp/after"
	diff "$tmp/before" "$tmp/after" | grep '^[<>]' >"$tmp/diff"
	expect "set_generation changes seven lines" 14 "$(wc -l <"$tmp/diff")"
	expect "set_generation: new deny" 1 "$(grep -c '^> .*== 0x00000202 .*"deny"' "$tmp/diff")"
	expect "set_generation: new allow" 1 "$(grep -c '^> .*== 0x00000201 .*"allow"' "$tmp/diff")"
	expect "set_generation: new mark allow" 1 "$(grep -c '^> .*meta mark & 0x0000ff03 == 0x00000201 ct mark set .* | 0x00000201 .*"mark allow"' "$tmp/diff")"
	expect "set_generation: new mark deny" 1 "$(grep -c '^> .*meta mark & 0x0000ff03 == 0x00000202 ct mark set .* | 0x00000202$' "$tmp/diff")"
	expect "set_generation: new rejects" 2 "$(grep -c '^> .*== 0x00000203 .*"reject"' "$tmp/diff")"
	expect "set_generation: new mark reject" 1 "$(grep -c '^> .*meta mark & 0x0000ff03 == 0x00000203 ct mark set .* | 0x00000203$' "$tmp/diff")"
fi

# --- quarantine -----------------------------------------------------------------
run "quarantine add (timeout)" drv qadd 02:00:00:00:00:01 60000
run "quarantine add" drv qadd 02:00:00:00:00:02
if [ "$HAVE_NFT" = 1 ]; then
	has "quarantine timeout" "02:00:00:00:00:01 timeout 1m expires"
	has "quarantine no timeout" "02:00:00:00:00:02 }"
fi
run "quarantine re-add (new timeout)" drv qadd 02:00:00:00:00:01 120000
[ "$HAVE_NFT" = 1 ] && has "quarantine timeout replaced" "02:00:00:00:00:01 timeout 2m expires"
run "quarantine del" drv qdel 02:00:00:00:00:02
[ "$HAVE_NFT" = 1 ] && lacks "quarantine del" "02:00:00:00:00:02"
expect "quarantine del of an absent MAC" \
	"nftdrv: qdel: No such file or directory (delete quarantine element)" \
	"$(drv qdel 02:00:00:00:00:02 2>&1)"
run "quarantine del" drv qdel 02:00:00:00:00:01
run "reinstall keeps nothing of the old table" drv install bridge=br-jail gen=1 inspect=3
[ "$HAVE_NFT" = 1 ] && lacks "reinstall empties quarantine" "02:00:00:00:00:01"

# --- remove ------------------------------------------------------------------------
run "remove" drv remove
[ "$HAVE_NFT" = 1 ] && expect "remove deletes the table" "" "$(tables)"
run "remove when absent" drv remove
expect "set_generation when absent" \
	"nftdrv: generation: No such file or directory (list rules of table iotjail)" \
	"$(drv generation 2>&1)"

# --- traffic through a jailed bridge ---------------------------------------------------
# A (10.99.0.1) -- br-jail in NS -- B (10.99.0.2).  UDP from A to B, one flow
# per source port; nobody listens on the queues, so bypass decides.
traffic() {
	ip netns add "$NSA" && ip netns add "$NSB" || return 1
	for n in "$NS" "$NSA" "$NSB"; do
		ip netns exec "$n" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6;
			echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' 2>/dev/null
	done
	ip -n "$NS" link add br-jail type bridge &&
		ip -n "$NS" link add va type veth peer name eth0 netns "$NSA" &&
		ip -n "$NS" link add vb type veth peer name eth0 netns "$NSB" &&
		ip -n "$NS" link set va master br-jail &&
		ip -n "$NS" link set vb master br-jail || return 1
	for l in br-jail va vb; do ip -n "$NS" link set "$l" up || return 1; done
	ip -n "$NSA" link set eth0 address 02:00:00:00:00:0a &&
		ip -n "$NSB" link set eth0 address 02:00:00:00:00:0b &&
		ip -n "$NSA" addr add 10.99.0.1/24 dev eth0 &&
		ip -n "$NSB" addr add 10.99.0.2/24 dev eth0 &&
		ip -n "$NS" addr add 10.99.0.254/24 dev br-jail &&
		ip -n "$NSA" link set eth0 up && ip -n "$NSB" link set eth0 up &&
		ip -n "$NSA" neigh replace 10.99.0.2 lladdr 02:00:00:00:00:0b dev eth0 &&
		ip -n "$NSB" neigh replace 10.99.0.1 lladdr 02:00:00:00:00:0a dev eth0 || return 1
	# What the daemon must set (the library only reads them).
	ip netns exec "$NS" sh -c 'echo 1 >/proc/sys/net/netfilter/nf_conntrack_acct &&
		echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables &&
		echo 1 >/proc/sys/net/bridge/bridge-nf-call-ip6tables' 2>/dev/null || return 1
	return 0
}
# send SPORT COUNT: prints how many datagrams B received
send() {
	ip netns exec "$NSB" "$tmp/nftdrv" udp-recv 7000 400 >"$tmp/recv" &
	rpid=$!
	sleep 0.2
	ip netns exec "$NSA" "$tmp/nftdrv" udp-send 10.99.0.2 7000 "$1" "$2"
	wait "$rpid"
	cat "$tmp/recv"
}
# counter NAME: packets of an ijnft_counters() counter (names may hold spaces)
counter() { drv counters | awk -F '\t' -v n="$1" '$1 == n { print $2 }'; }
# snap; delta NAME: packets counted since the last snap
snap() { drv counters >"$tmp/snap"; }
delta() {
	was=$(awk -F '\t' -v n="$1" '$1 == n { print $2 }' "$tmp/snap")
	echo $(($(counter "$1") - was))
}
# listed NAME: packets of the rules commented NAME, as `nft list` prints
# them (summed: a reject verdict has two rules)
listed() {
	listing | sed -n 's/.*counter packets \([0-9]*\) bytes [0-9]* .*comment "'"$1"'"$/\1/p' |
		awk '{ n += $1 } END { if (NR) print n }'
}
# tablectr NETNS TABLE NAME: packets of TABLE's rule commented NAME (-1: no
# such rule, which fails the check instead of breaking the arithmetic)
tablectr() {
	n=$(ip netns exec "$1" nft list table inet "$2" 2>/dev/null |
		sed -n 's/.*counter packets \([0-9]*\) bytes [0-9]* comment "'"$3"'"$/\1/p')
	echo "${n:--1}"
}
# hctr NAME: the helper table's counter in the bridge namespace
hctr() { tablectr "$NS" ijhelper "$1"; }
# aseen NAME: what A counted arriving (table ijseen)
aseen() { tablectr "$NSA" ijseen "$1"; }
# tcp SPORT ROUNDS: one TCP connection A -> B:7001; prints the bytes B read
tcp() {
	ip netns exec "$NSB" "$tmp/nftdrv" tcp-serve 7001 1000 >"$tmp/recv" &
	rpid=$!
	sleep 0.2
	ip netns exec "$NSA" "$tmp/nftdrv" tcp-send 10.99.0.2 7001 "$1" "$2"
	wait "$rpid"
	cat "$tmp/recv"
}
# marks MARK: a helper table sets every flow's ct mark, standing in for the
# daemon's verdicts; "none" deletes it.
marks() {
	ip netns exec "$NS" nft delete table inet ijmark 2>/dev/null
	[ "$1" = none ] && return 0
	ip netns exec "$NS" nft -f - <<EOF
table inet ijmark {
	chain pre { type filter hook prerouting priority 0; ct mark set $1; }
}
EOF
}

if ! traffic; then
	echo "nftables: traffic tests skipped: cannot build the bridge (br_netfilter?)"
elif [ "$(drv sysctl)" != "acct 1 bridge-nf 1" ]; then
	ko "sysctl helpers: $(drv sysctl)"
else
	ok
	run "install for traffic" drv install bridge=br-jail gen=1 inspect=3 queue=0:2
	expect "fail-open: all datagrams pass" 10 "$(send 5001 10)"
	expect "first 3 packets queued (bypassed)" 3 "$(counter queue)"
	expect "the rest accepted past the budget" 7 "$(counter budget)"

	run "quarantine A" drv qadd 02:00:00:00:00:0a
	expect "quarantined MAC is dropped" 0 "$(send 5001 5)"
	expect "quarantine counter" 5 "$(counter quarantine)"
	run "release A" drv qdel 02:00:00:00:00:0a
	expect "released MAC passes" 5 "$(send 5001 5)"

	if [ "$HAVE_NFT" = 1 ]; then
		marks 0x00000102 # generation 1, deny
		expect "deny mark drops" 0 "$(send 5002 5)"
		expect "deny counter" 5 "$(counter deny)"
		marks 0x00000101 # generation 1, allow
		expect "allow mark passes" 5 "$(send 5003 5)"
		expect "allow counter" 5 "$(counter allow)"
		q=$(counter queue)
		b=$(counter budget)
		run "set_generation 2" drv generation bridge=br-jail gen=2 inspect=3 queue=0:2
		expect "counters carried over" "$q" "$(counter queue)"
		expect "stale verdicts are re-queued" 5 "$(send 5003 5)"
		expect "stale packets queued" $((q + 5)) "$(counter queue)"
		expect "stale packets not budget-accepted" "$b" "$(counter budget)"
		marks none
	fi

	# The verdict chain, fed as the daemon feeds it: the packet mark of a
	# packet accepted from the queue (here: bypassed, no daemon) carries
	# gen<<8|verdict.  A helper table sets packet marks before `forward`
	# (priority -10) and observes after `verdict` (priority +10).
	# Generation 2 is installed; the budget is out of the way.
	if [ "$HAVE_NFT" = 1 ]; then
		run "install for the verdict chain" drv install bridge=br-jail gen=2 inspect=1000 queue=0:2
		if ip netns exec "$NS" nft -f - <<EOF; then ok; else ko "helper table"; fi
table inet ijhelper {
	chain pre {
		type filter hook forward priority -10; policy accept;
		udp sport 5011 ct mark 0x00010206 counter comment "deny kept bits"
		tcp dport 7001 counter comment "tcp out"
		tcp sport 7001 counter comment "tcp back"
		tcp dport 7001 tcp flags & (fin|syn|rst|psh|ack) == ack meta length <= 100 counter comment "ack out"
		tcp sport 7001 tcp flags & (fin|syn|rst|psh|ack) == ack meta length <= 100 counter comment "ack back"
		udp sport 5010 ct mark & 0xff03 == 0 ct mark set ct mark | 0x10004 meta mark set 0x20285
		udp sport 5011 ct mark & 0xff03 == 0 ct packets 2 ct mark set ct mark | 0x10004 meta mark set 0x202
		udp sport 5012 ct mark & 0xff03 == 0 meta mark set 0x202
		udp sport 5013 ct packets 2 meta mark set 0x102
		udp sport 5014 ct packets 2 meta mark set 0x101
		udp sport 5015 ct packets 2 meta mark set 0x203
		udp sport 5016 ct packets 2 meta mark set 0x207
		tcp sport 6002 tcp flags syn meta mark set 0x203
	}
	chain post {
		type filter hook forward priority 10; policy accept;
		udp sport 5010 meta mark & 0xff03 != 0 counter comment "leak"
		udp sport 5010 meta mark 0x00020084 counter comment "kept"
		udp sport 5010 ct mark 0x00010205 counter comment "ct mark"
	}
}
EOF

		# Allow on the first packet; mark 0x20285 is generation 2, allow,
		# plus bits 2-7 and 16-31 that are not ours.
		snap
		expect "mark allow: flow passes" 5 "$(send 5010 5)"
		expect "mark allow: copied once" 1 "$(delta 'mark allow')"
		expect "mark allow: first packet queued" 1 "$(delta queue)"
		expect "mark allow: later packets hit allow" 4 "$(delta allow)"
		expect "mark allow: ct mark = other bits | 0x205" 5 "$(hctr 'ct mark')"
		expect "mark allow: packet mark bits cleared" 0 "$(hctr leak)"
		expect "mark allow: other packet mark bits kept" 1 "$(hctr kept)"

		# Deny on the second packet (the conntrack entry is confirmed).
		snap
		expect "mark deny: only the first packet passes" 1 "$(send 5011 5)"
		expect "mark deny: its packet dropped by the verdict chain" 1 "$(delta 'mark deny')"
		expect "mark deny: the rest dropped by deny" 3 "$(delta deny)"
		expect "mark deny: two packets queued" 2 "$(delta queue)"
		expect "mark deny: ct mark = other bits | 0x202" 3 "$(hctr 'deny kept bits')"

		# Deny on the first packet: the packet is dropped, and with it its
		# unconfirmed conntrack entry, so the verdict is not kept: every
		# packet is queued again (the daemon must judge it again) and
		# dropped by the verdict chain.
		snap
		expect "first-packet deny: nothing passes" 0 "$(send 5012 5)"
		expect "first-packet deny: every packet dropped by the verdict chain" 5 "$(delta 'mark deny')"
		expect "first-packet deny: conntrack does not keep it" 0 "$(delta deny)"
		expect "first-packet deny: every packet queued" 5 "$(delta queue)"

		# Verdicts of generation 1 (given during a reload) while 2 is
		# installed: a deny still drops its packet; neither is written
		# into conntrack, so the flows stay undecided (queued).
		snap
		expect "stale deny: only its packet is dropped" 4 "$(send 5013 5)"
		expect "stale deny: dropped by the verdict chain" 1 "$(delta 'mark deny')"
		expect "stale deny: not kept in conntrack" 0 "$(delta deny)"
		expect "stale deny: flow stays undecided" 5 "$(delta queue)"
		snap
		expect "stale allow: passes" 5 "$(send 5014 5)"
		expect "stale allow: not copied" 0 "$(delta 'mark allow')"
		expect "stale allow: not allowed by conntrack" 0 "$(delta allow)"
		expect "stale allow: flow stays undecided" 5 "$(delta queue)"

		# TCP in an undecided flow: pure ACKs (counted by the helper with
		# the same match) are accepted by `ack`, all else is queued.
		snap
		expect "tcp: payload arrives" 80 "$(tcp 6001 5)"
		total=$(($(hctr 'tcp out') + $(hctr 'tcp back')))
		acks=$(($(hctr 'ack out') + $(hctr 'ack back')))
		if [ "$acks" -ge 2 ]; then ok; else
			ko "tcp: $acks pure ACKs seen, expected at least 2"
		fi
		expect "tcp: pure ACKs counted by ack" "$acks" "$(delta ack)"
		expect "tcp: the rest queued" $((total - acks)) "$(delta queue)"

		# Reject (generation 2, verdict 3) on a confirmed flow's second
		# packet: the verdict chain copies it and answers A with an ICMP
		# administratively prohibited; the forward chain's reject rules
		# answer the rest.  The answers come from the bridge namespace's
		# own stack, so br-jail has an address.  A counts what it gets.
		if ip netns exec "$NSA" nft -f - <<EOF; then ok; else ko "seen table"; fi
table inet ijseen {
	chain in {
		type filter hook input priority 0; policy accept;
		icmp type destination-unreachable icmp code admin-prohibited counter comment "admin"
		tcp flags & rst == rst counter comment "rst"
	}
}
EOF
		snap
		expect "reject: only the first packet passes" 1 "$(send 5015 5)"
		expect "reject: its packet rejected by the verdict chain" 1 "$(delta 'mark reject')"
		expect "reject: the rest rejected by reject" 3 "$(delta reject)"
		expect "reject: A got an ICMP admin-prohibited for each" 4 "$(aseen admin)"
		# The pass bit: the daemon's rewritten refusal passes, and the
		# flow's later packets are rejected.
		snap
		expect "mark pass: the first two pass" 2 "$(send 5016 5)"
		expect "mark pass: passed by the verdict chain" 1 "$(delta 'mark pass')"
		expect "mark pass: not rejected there" 0 "$(delta 'mark reject')"
		expect "mark pass: the rest rejected by reject" 3 "$(delta reject)"
		# (no count of A's ICMPs here: the kernel sends a burst of 6 to
		# one address, then one a second; icmp_ratelimit)
		# TCP: a rejected SYN is answered with a reset.
		snap
		expect "reject tcp: nothing arrives" 0 "$(tcp 6002 5)"
		expect "reject tcp: the SYN rejected" 1 "$(delta 'mark reject')"
		expect "reject tcp: A got a reset" 1 "$(aseen rst)"
		ip netns exec "$NSA" nft delete table inet ijseen

		# Trusted: A's MAC and address, the WAN anything outside
		# 10.98.0.0/16: its flow is allowed at the first packet, in
		# the kernel; towards a LAN prefix, or from another MAC, it is
		# queued as any flow.
		run "install trusted" drv install bridge=br-jail gen=2 inspect=1000 queue=0:2 \
			trusted=02:00:00:00:00:0a/10.99.0.1 trusted=02:00:00:00:00:0a/fd99::1 \
			lanprefix=10.98.0.0/16 lanprefix=fd98::/64
		snap
		expect "trusted: the flow passes" 5 "$(send 5020 5)"
		expect "trusted: its first packet decided by trusted" 1 "$(delta trusted)"
		expect "trusted: the rest by allow (conntrack)" 4 "$(delta allow)"
		expect "trusted: nothing queued" 0 "$(delta queue)"
		run "install trusted, B's network a LAN prefix" drv install bridge=br-jail gen=2 \
			inspect=1000 queue=0:2 trusted=02:00:00:00:00:0a/10.99.0.1 lanprefix=10.99.0.0/24
		snap
		expect "trusted to the LAN: passes (bypass)" 5 "$(send 5021 5)"
		expect "trusted to the LAN: not trusted's" 0 "$(delta trusted)"
		expect "trusted to the LAN: queued" 5 "$(delta queue)"
		run "install another MAC trusted" drv install bridge=br-jail gen=2 inspect=1000 \
			queue=0:2 trusted=02:00:00:00:00:0b/10.99.0.1
		snap
		expect "untrusted MAC: passes (bypass)" 5 "$(send 5022 5)"
		expect "untrusted MAC: not trusted's" 0 "$(delta trusted)"
		expect "untrusted MAC: queued" 5 "$(delta queue)"
		run "reinstall for the counters" drv install bridge=br-jail gen=2 inspect=1000 queue=0:2 \
			trusted=02:00:00:00:00:0a/10.99.0.1

		# ijnft_counters() sums the rules of both chains by comment: the
		# numbers nft lists, for every counter.
		drv counters | cut -f1 >"$tmp/names"
		expect "counters: names" \
			"quarantine,deny,reject,allow,budget,queue,ack,trusted,mark allow,mark deny,mark reject,mark pass" \
			"$(paste -sd, "$tmp/names")"
		while read -r name; do
			expect "counters: $name as listed" "$(listed "$name")" "$(counter "$name")"
		done <"$tmp/names"
		drv counters >"$tmp/c1"
		run "set_generation 3" drv generation bridge=br-jail gen=3 inspect=1000 queue=0:2
		drv counters >"$tmp/c2"
		expect "set_generation carries every counter" "$(cat "$tmp/c1")" "$(cat "$tmp/c2")"
		ip netns exec "$NS" nft delete table inet ijhelper
	fi

	run "install fail-closed" drv install bridge=br-jail gen=1 inspect=3 fail-closed
	expect "fail-closed: undecided dropped without a daemon" 0 "$(send 5004 5)"
	expect "fail-closed: drops counted as queued" 5 "$(counter queue)"
	run "install router mode" drv install lan=eth9 gen=1 inspect=3 fail-closed
	expect "traffic outside the LAN is not jailed" 5 "$(send 5005 5)"
	run "remove after traffic" drv remove
fi

echo "nftables: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
