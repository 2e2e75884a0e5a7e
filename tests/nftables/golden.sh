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
#   - install creates the table and rules; installing twice gives one table
#     and one set of rules; set_generation changes only the generation;
#     quarantine add/del (with timeout, and timeout replacement); remove;
#   - traffic through a bridge between two more namespaces: the budget,
#     quarantine, deny and allow marks, a stale generation re-queued, and
#     fail-closed dropping while no daemon listens.
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
	expect "six rules after two installs" 6 "$(listing | grep -c 'comment "')"
	has "chain" "type filter hook forward priority filter - 5; policy accept;"
	has "lan set" 'elements = { "br-jail" }'
	has "scope" 'iifname != @lan_ifs oifname != @lan_ifs return comment "scope"'
	has "quarantine" 'ether saddr @quarantine counter packets 0 bytes 0 drop comment "quarantine"'
	has "deny" 'ct mark & 0x0000ff03 == 0x00000102 counter packets 0 bytes 0 drop comment "deny"'
	has "allow" 'ct mark & 0x0000ff03 == 0x00000101 counter packets 0 bytes 0 accept comment "allow"'
	has "budget" 'ct mark & 0x00000003 == 0x00000000 ct packets > 3 counter packets 0 bytes 0 accept comment "budget"'
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
	expect "set_generation changes two lines" 4 "$(wc -l <"$tmp/diff")"
	expect "set_generation: new deny" 1 "$(grep -c '^> .*== 0x00000202 .*"deny"' "$tmp/diff")"
	expect "set_generation: new allow" 1 "$(grep -c '^> .*== 0x00000201 .*"allow"' "$tmp/diff")"
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
	"nftdrv: generation: No such file or directory (list rules of chain forward)" \
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
counter() { drv counters | awk -v n="$1" '$1 == n { print $2 }'; }
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

	run "install fail-closed" drv install bridge=br-jail gen=1 inspect=3 fail-closed
	expect "fail-closed: undecided dropped without a daemon" 0 "$(send 5004 5)"
	expect "fail-closed: drops counted as queued" 5 "$(counter queue)"
	run "install router mode" drv install lan=eth9 gen=1 inspect=3 fail-closed
	expect "traffic outside the LAN is not jailed" 5 "$(send 5005 5)"
	run "remove after traffic" drv remove
fi

echo "nftables: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
