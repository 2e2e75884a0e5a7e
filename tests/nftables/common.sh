# tests/nftables/common.sh: what the kernel tests of both backends share,
# sourced by tests/nftables/golden.sh and tests/iptables/golden.sh: the
# set-up (namespaces, the driver), the check helpers, the bridge and its
# traffic, and the checks of behaviour both rulesets must show alike (the
# same assertions, so that the backends cannot drift apart).
#
# The caller sets LABEL (its name in SKIP/FAIL lines) and B, calls
# golden_start, and defines drv (the driver on the backend under test, in
# NS) and, for the checks that need them: marks MARK (every flow's ct mark
# set to MARK before our rules, "none": no more), pre NAME and seen NAME
# (a helper rule's packet count, before our rules and after them), aseen
# NAME (what A counted arriving: "admin" ICMP, "rst" TCP resets), listed NAME
# (packets of the rules commented NAME, as the backend's tool lists them).

pass=0
fail=0

skip() {
	echo "$LABEL: SKIP: $*"
	exit 0
}

# golden_start NAME: namespace NAME (and names NAME-a, NAME-b for the
# bridge's ends: NS, NSA, NSB), a scratch directory tmp, the driver DRV
# compiled against the nftables/ sources (the Makefile does not build it);
# all removed on exit.  Skips (root, tools) or fails (compilation) with a
# line saying why.
golden_start() {
	[ "$(id -u)" -eq 0 ] || skip "not root"
	command -v ip >/dev/null 2>&1 || skip "ip (iproute2) not installed"
	ip netns list >/dev/null 2>&1 || skip "ip netns unavailable"
	libs=$(pkg-config --cflags --libs libnftnl libmnl 2>/dev/null) ||
		skip "libnftnl/libmnl development files missing"
	NS=$1
	NSA=$NS-a
	NSB=$NS-b
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$LABEL-golden.XXXXXX")
	trap golden_cleanup EXIT
	trap 'exit 1' INT TERM
	san=
	case $B in *san*) san="-fsanitize=address,undefined -fno-sanitize-recover=undefined" ;; esac
	DRV=$tmp/nftdrv
	# shellcheck disable=SC2086 # word splitting of the flags is intended
	if ! ${CC:-cc} -std=gnu11 -D_GNU_SOURCE -I. -O1 -g -Wall -Wextra $san \
		-o "$DRV" nftables/nft.c nftables/ipt.c nftables/ruleset.c \
		tests/nftables/nftdrv.c $libs -pthread; then
		echo "FAIL: cannot compile tests/nftables/nftdrv.c"
		echo "$LABEL: 0 passed, 1 failed"
		exit 1
	fi
	ip netns add "$NS" || skip "cannot create a network namespace"
}

golden_cleanup() {
	for n in "$NSA" "$NSB" "$NS"; do
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$tmp"
}

ok() { pass=$((pass + 1)); }
ko() {
	fail=$((fail + 1))
	echo "FAIL: $*"
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
	ip netns exec "$NSB" "$DRV" udp-recv 7000 400 >"$tmp/recv" &
	rpid=$!
	sleep 0.2
	ip netns exec "$NSA" "$DRV" udp-send 10.99.0.2 7000 "$1" "$2"
	wait "$rpid"
	cat "$tmp/recv"
}

# tcp SPORT ROUNDS: one TCP connection A -> B:7001; prints the bytes B read
tcp() {
	ip netns exec "$NSB" "$DRV" tcp-serve 7001 1000 >"$tmp/recv" &
	rpid=$!
	sleep 0.2
	ip netns exec "$NSA" "$DRV" tcp-send 10.99.0.2 7001 "$1" "$2" 2>/dev/null
	wait "$rpid"
	cat "$tmp/recv"
}

# counter NAME: packets of a counter as the library reads it (names may
# hold spaces)
counter() { drv counters | awk -F '\t' -v n="$1" '$1 == n { print $2 }'; }
# snap; delta NAME: packets counted since the last snap
snap() { drv counters >"$tmp/snap"; }
delta() {
	was=$(awk -F '\t' -v n="$1" '$1 == n { print $2 }' "$tmp/snap")
	echo $(($(counter "$1") - was))
}

# The checks.  Each runs in a freshly built bridge (traffic) with the
# sysctls set; the caller installs what the comment says.

# basic_checks: installs generation 1, budget 3: bypass, budget, quarantine.
basic_checks() {
	run "install for traffic" drv install bridge=br-jail gen=1 inspect=3 queue=0:2
	expect "fail-open: all datagrams pass" 10 "$(send 5001 10)"
	expect "first 3 packets queued (bypassed)" 3 "$(counter queue)"
	expect "the rest accepted past the budget" 7 "$(counter budget)"

	run "quarantine A" drv qadd 02:00:00:00:00:0a
	expect "quarantined MAC is dropped" 0 "$(send 5001 5)"
	expect "quarantine counter" 5 "$(counter quarantine)"
	run "release A" drv qdel 02:00:00:00:00:0a
	expect "released MAC passes" 5 "$(send 5001 5)"
}

# ctmark_checks: ct marks of generation 1 (marks) drop and pass, a reload
# to generation 2 keeps the counters and re-queues the stale verdicts.
ctmark_checks() {
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
}

# verdict_checks: generation 2 installed, budget out of the way, helper
# rules setting packet marks as the daemon does (see the callers) and A's
# observers in place.
verdict_checks() {
	# Allow on the first packet; mark 0x20285 is generation 2, allow,
	# plus bits 2-7 and 16-31 that are not ours.
	snap
	expect "mark allow: flow passes" 5 "$(send 5010 5)"
	expect "mark allow: copied once" 1 "$(delta 'mark allow')"
	expect "mark allow: first packet queued" 1 "$(delta queue)"
	expect "mark allow: later packets hit allow" 4 "$(delta allow)"
	expect "mark allow: ct mark = other bits | 0x205" 5 "$(seen 'ct mark')"
	expect "mark allow: packet mark bits cleared" 0 "$(seen leak)"
	expect "mark allow: other packet mark bits kept" 1 "$(seen kept)"

	# Deny on the second packet (the conntrack entry is confirmed).
	snap
	expect "mark deny: only the first packet passes" 1 "$(send 5011 5)"
	expect "mark deny: its packet dropped by the verdict chain" 1 "$(delta 'mark deny')"
	expect "mark deny: the rest dropped by deny" 3 "$(delta deny)"
	expect "mark deny: two packets queued" 2 "$(delta queue)"
	expect "mark deny: ct mark = other bits | 0x202" 3 "$(pre 'deny kept bits')"

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
	total=$(($(pre 'tcp out') + $(pre 'tcp back')))
	acks=$(($(pre 'ack out') + $(pre 'ack back')))
	if [ "$acks" -ge 2 ]; then ok; else
		ko "tcp: $acks pure ACKs seen, expected at least 2"
	fi
	expect "tcp: pure ACKs counted by ack" "$acks" "$(delta ack)"
	expect "tcp: the rest queued" $((total - acks)) "$(delta queue)"

	# Reject (generation 2, verdict 3) on a confirmed flow's second
	# packet: the verdict chain copies it and answers A with an ICMP
	# administratively prohibited; the forward chain's reject rules
	# answer the rest.  The answers come from the bridge namespace's
	# own stack, so br-jail has an address.
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
}

# trusted_checks: installs trusted devices itself.
trusted_checks() {
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
}

# observed_checks: installs observed devices itself.  A observed, B
# trusted: each flow allowed at its first packet and counted apart; a
# listener on the NFLOG group (tcpdump in NS) gets A's first packet, and
# nothing else.
observed_checks() {
	if ! command -v tcpdump >/dev/null 2>&1; then
		echo "$LABEL: observed devices' NFLOG copy not checked: no tcpdump"
	fi
	run "install observed" drv install bridge=br-jail gen=2 inspect=1000 queue=0:2 \
		observed=02:00:00:00:00:0a/10.99.0.1 trusted=02:00:00:00:00:0b/10.99.0.2 \
		lanprefix=10.98.0.0/16 observe-group=5
	tpid=
	if command -v tcpdump >/dev/null 2>&1; then
		ip netns exec "$NS" timeout 20 tcpdump -U -n -i nflog:5 -w "$tmp/nflog.pcap" \
			2>"$tmp/tcpdump.err" &
		tpid=$!
		i=0
		while ! grep -q listening "$tmp/tcpdump.err" && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	snap
	expect "observed: the flow passes" 5 "$(send 5023 5)"
	expect "observed: its first packet decided by observed" 1 "$(delta observed)"
	expect "observed: not by trusted" 0 "$(delta trusted)"
	expect "observed: the rest by allow (conntrack)" 4 "$(delta allow)"
	expect "observed: nothing queued" 0 "$(delta queue)"
	snap
	ip netns exec "$NSB" "$DRV" udp-send 10.99.0.1 7000 5024 3
	expect "trusted next to observed: first packet by trusted" 1 "$(delta trusted)"
	expect "trusted next to observed: not by observed" 0 "$(delta observed)"
	if [ -n "$tpid" ]; then
		# NFLOG sends when 16 packets are gathered, or after the flush
		# timeout (1 s: nobody sets another here).
		i=0
		while [ "$(tcpdump -r "$tmp/nflog.pcap" 2>/dev/null | wc -l)" -lt 1 ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		sleep 1.5
		kill "$tpid" 2>/dev/null
		wait "$tpid"
		# (cut: tcpdump decodes port 7000 as AFS rx)
		expect "observed: NFLOG group 5 got the flow's first packet, only it" \
			"IP 10.99.0.1.5023 > 10.99.0.2.7000" \
			"$(tcpdump -r "$tmp/nflog.pcap" -n -t 2>/dev/null | cut -d: -f1)"
		expect "observed: ... its payload" 1 "$(tcpdump -r "$tmp/nflog.pcap" -n -A 2>/dev/null | grep -c 'iotjail 0')"
	fi
	run "install observed, B's network a LAN prefix" drv install bridge=br-jail gen=2 \
		inspect=1000 queue=0:2 observed=02:00:00:00:00:0a/10.99.0.1 lanprefix=10.99.0.0/24 \
		observe-group=5
	snap
	expect "observed to the LAN: passes (bypass)" 5 "$(send 5025 5)"
	expect "observed to the LAN: not observed's" 0 "$(delta observed)"
	expect "observed to the LAN: queued" 5 "$(delta queue)"
}

# listed_checks: every counter as the library reads it equals what the
# backend's own tool lists (listed NAME, defined by the caller).
listed_checks() {
	drv counters | cut -f1 >"$tmp/names"
	expect "counters: names" \
		"quarantine,deny,reject,allow,budget,queue,ack,trusted,observed,mark allow,mark deny,mark reject,mark pass" \
		"$(paste -sd, "$tmp/names")"
	while read -r name; do
		expect "counters: $name as listed" "$(listed "$name")" "$(counter "$name")"
	done <"$tmp/names"
}

# tail_checks: fail-closed, and router mode's scope.
tail_checks() {
	run "install fail-closed" drv install bridge=br-jail gen=1 inspect=3 fail-closed
	expect "fail-closed: undecided dropped without a daemon" 0 "$(send 5004 5)"
	expect "fail-closed: drops counted as queued" 5 "$(counter queue)"
	run "install router mode" drv install lan=eth9 gen=1 inspect=3 fail-closed
	expect "traffic outside the LAN is not jailed" 5 "$(send 5005 5)"
}
