#!/bin/sh
# Kernel tests of the nftables/ library, run from the repository root by
# `make golden` (B=build or build-san).  Root only: everything happens in
# scratch network namespaces named ijnft-test-PID[-a|-b], deleted on exit.
#
# The driver tests/nftables/nftdrv.c is compiled here against the nftables/
# sources (the Makefile does not build it); it goes through ruleset.h, as
# the daemon does.  Checks:
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
LABEL=nftables
. tests/nftables/common.sh
HAVE_NFT=1
command -v nft >/dev/null 2>&1 || HAVE_NFT=0
golden_start ijnft-test-$$

drv() { ip netns exec "$NS" "$DRV" "$@"; }
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
# traffic, send, tcp, counter, snap, delta and the checks *_checks:
# tests/nftables/common.sh.
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
# hctr NAME: the helper table's counter in the bridge namespace; it counts
# both before our chains (pre) and after them (seen)
hctr() { tablectr "$NS" ijhelper "$1"; }
pre() { hctr "$1"; }
seen() { hctr "$1"; }
# aseen NAME: what A counted arriving (table ijseen)
aseen() { tablectr "$NSA" ijseen "$1"; }
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
	basic_checks

	if [ "$HAVE_NFT" = 1 ]; then
		ctmark_checks
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

		# A counts what it gets (the answers to rejected packets).
		if ip netns exec "$NSA" nft -f - <<EOF; then ok; else ko "seen table"; fi
table inet ijseen {
	chain in {
		type filter hook input priority 0; policy accept;
		icmp type destination-unreachable icmp code admin-prohibited counter comment "admin"
		tcp flags & rst == rst counter comment "rst"
	}
}
EOF
		verdict_checks
		ip netns exec "$NSA" nft delete table inet ijseen

		trusted_checks
		observed_checks
		run "reinstall for the counters" drv install bridge=br-jail gen=2 inspect=1000 queue=0:2 \
			trusted=02:00:00:00:00:0a/10.99.0.1 observed=02:00:00:00:00:0b/10.99.0.2 \
			observe-group=5

		# ijnft_counters() sums the rules of both chains by comment: the
		# numbers nft lists, for every counter.
		listed_checks
		drv counters >"$tmp/c1"
		run "set_generation 3" drv generation bridge=br-jail gen=3 inspect=1000 queue=0:2
		drv counters >"$tmp/c2"
		expect "set_generation carries every counter" "$(cat "$tmp/c1")" "$(cat "$tmp/c2")"
		ip netns exec "$NS" nft delete table inet ijhelper
	fi

	tail_checks
	run "remove after traffic" drv remove
fi

echo "nftables: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
