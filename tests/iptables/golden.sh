#!/bin/sh
# Kernel tests of the iptables backend (nftables/ipt.c, through
# nftables/ruleset.h as the daemon uses it), run from the repository root
# by `make golden` (B=build or build-san).  Root only: everything happens in
# scratch network namespaces named ijipt-PID[-a|-b], deleted on exit; the
# iptables rules live in those namespaces and go with them.
#
# The driver tests/nftables/nftdrv.c (--backend=iptables) is compiled here
# against the nftables/ sources.  Checks:
#   - the probe passes and leaves nothing; auto picks nft where nf_tables
#     works; iptables-restore --test takes the unit tests' golden texts;
#   - install: our hook first in FORWARD of mangle and filter, v4 and v6,
#     other software's rules and chains kept; installing again (or over a
#     crashed run's leftovers: a duplicate hook, a stale chain) leaves
#     exactly one ruleset; observed devices: their rules as iptables-save
#     prints them (tests/iptables/observed-save.rules), IOTJAIL-OBSERVE
#     deleted by a reload or an install without them, created by a reload
#     with them; set_generation changes the marks only, keeps the
#     quarantine, and fails naming the iptables line when a chain is gone;
#     quarantine add (timeout replaced) / del / expiry; remove leaves
#     iptables-save exactly as it was before; installing one backend
#     removes the other's leftovers;
#   - traffic through a bridge between two more namespaces: the budget,
#     quarantine (IPv4 and IPv6), deny and allow ct marks, a stale
#     generation re-queued, the verdict chain fed with packet marks as the
#     daemon sets them (allow/deny copied with other bits kept, first-packet
#     and stale denies, reject answered with ICMP admin-prohibited and TCP
#     reset, the pass bit), pure ACKs not queued, trusted devices, observed
#     devices (allowed and counted apart, the first packet copied to the
#     NFLOG group: tcpdump -i nflog:G), every counter against
#     `iptables -L -v`, counters carried over a reload, fail-closed,
#     router-mode scope.
# Needs iptables (iptables-legacy*, ip6tables-legacy*) and iproute2; skips
# with a line saying why otherwise (the NFLOG capture: tcpdump).
# IOTJAIL_UPDATE_GOLDEN=1 rewrites tests/iptables/observed-save.rules.
set -u
B=${B:-build}
LABEL=iptables
. tests/nftables/common.sh
for t in iptables-legacy iptables-legacy-save ip6tables-legacy ip6tables-legacy-save; do
	command -v $t >/dev/null 2>&1 || skip "$t missing (Debian package iptables)"
done
HAVE_NFT=1
command -v nft >/dev/null 2>&1 || HAVE_NFT=0
golden_start ijipt-$$

drv() { ip netns exec "$NS" "$DRV" --backend=iptables "$@"; }
ipt() { ip netns exec "$NS" iptables-legacy "$@"; }
ipt6() { ip netns exec "$NS" ip6tables-legacy "$@"; }
# saved: both families' iptables-save, without comments and chain counters
saved() {
	for s in iptables-legacy-save ip6tables-legacy-save; do
		ip netns exec "$NS" $s | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//'
	done
}
# count TABLE REGEX: lines of both families' save of TABLE ("all": every
# table) matching REGEX
count() {
	for s in iptables-legacy-save ip6tables-legacy-save; do
		if [ "$1" = all ]; then ip netns exec "$NS" $s; else
			ip netns exec "$NS" $s -t "$1"; fi
	done | grep -cE -- "$2"
}

# --- probe, other software's rules ------------------------------------------------
# Another firewall's rules and chain, in both tables and families: the jail
# must keep them and go before them.
for c in iptables-legacy ip6tables-legacy; do
	ip netns exec "$NS" $c -A FORWARD -i other0 -j ACCEPT &&
		ip netns exec "$NS" $c -N OTHER &&
		ip netns exec "$NS" $c -A OTHER -j RETURN &&
		ip netns exec "$NS" $c -A FORWARD -j OTHER &&
		ip netns exec "$NS" $c -t mangle -A FORWARD -i other0 -j RETURN ||
		skip "legacy iptables does not work in a namespace here"
done
saved >"$tmp/before"

expect "probe" iptables "$(drv probe 2>&1)"
saved >"$tmp/after-probe"
expect "probe leaves iptables-save as it was" "" "$(diff "$tmp/before" "$tmp/after-probe")"
if [ "$HAVE_NFT" = 1 ]; then
	kind=$(ip netns exec "$NS" "$DRV" --backend=auto probe 2>&1)
	case $kind in
	native | xt) ok ;;
	*) ko "auto picks nft where nf_tables can queue: $kind" ;;
	esac
fi

# The unit tests' golden texts are what this iptables-restore accepts
# (--test: parsed and checked against the kernel's extensions, not committed).
for r in bridge router-fail-closed trusted observed; do
	sed -n '/^# iptables$/,/^# ip6tables$/p' "tests/iptables/$r.rules" |
		ip netns exec "$NS" iptables-legacy-restore --noflush --test &&
		sed -n '/^# ip6tables$/,$p' "tests/iptables/$r.rules" |
		ip netns exec "$NS" ip6tables-legacy-restore --noflush --test &&
		ok || ko "tests/iptables/$r.rules: iptables-restore --test refuses it"
done

# --- install, idempotence ---------------------------------------------------------------
run "install" drv install bridge=br-jail gen=1 inspect=3 queue=0:2
saved >"$tmp/install1"
for t in filter mangle; do
	for c in iptables-legacy-save ip6tables-legacy-save; do
		expect "$c $t: our hook is FORWARD's first rule" "-A FORWARD -j IOTJAIL" \
			"$(ip netns exec "$NS" $c -t $t | grep -m1 '^-A FORWARD')"
	done
done
expect "other software's rules kept" 8 "$(count all '^-A (FORWARD -i other0|FORWARD -j OTHER|OTHER -j RETURN)')"
expect "filter chains" "IOTJAIL IOTJAIL-MARK-ALLOW IOTJAIL-MARK-PASS IOTJAIL-REJECT" \
	"$(ip netns exec "$NS" iptables-legacy-save -t filter | sed -n 's/^:\(IOTJAIL[^ ]*\).*/\1/p' | paste -sd ' ')"
expect "mangle chains" "IOTJAIL IOTJAIL-FWD IOTJAIL-QDROP IOTJAIL-QUAR IOTJAIL-TRUST" \
	"$(ip netns exec "$NS" iptables-legacy-save -t mangle | sed -n 's/^:\(IOTJAIL[^ ]*\).*/\1/p' | paste -sd ' ')"
expect "forward chain order" "QUAR deny - allow budget ack queue" \
	"$(ip netns exec "$NS" iptables-legacy-save -t mangle | sed -n 's/^-A IOTJAIL-FWD //p' |
		sed -e 's/.*-j IOTJAIL-QUAR$/QUAR/' -e 's/.*--comment \([a-z]*\) .*/\1/' -e 's/^-m connmark.*-j RETURN$/-/' | paste -sd ' ')"
expect "queue: balanced over 0-1, bypass" 2 "$(count mangle '--comment queue -j NFQUEUE --queue-balance 0:1 --queue-bypass$')"
expect "budget: more than 3 packets" 2 "$(count mangle '--connbytes 4 .*--comment budget')"
expect "v6 rejects with icmp6-adm-prohibited" 2 \
	"$(ip netns exec "$NS" ip6tables-legacy-save -t filter | grep -c 'icmp6-adm-prohibited')"
run "install again" drv install bridge=br-jail gen=1 inspect=3 queue=0:2
saved >"$tmp/install2"
expect "install twice: the same ruleset, nothing duplicated" "" "$(diff "$tmp/install1" "$tmp/install2")"

# A crashed older run: a second hook, and a chain of ours this version
# does not have, hooked too.
ipt -A FORWARD -j IOTJAIL
ipt -t mangle -N IOTJAIL-OLD
ipt -t mangle -A IOTJAIL-OLD -j RETURN
ipt -t mangle -I FORWARD 2 -j IOTJAIL-OLD
ipt6 -I FORWARD 1 -j IOTJAIL
run "install over leftovers" drv install bridge=br-jail gen=1 inspect=3 queue=0:2
saved >"$tmp/install3"
expect "install over leftovers: duplicate hook and stale chain gone" "" "$(diff "$tmp/install1" "$tmp/install3")"

# --- observed devices ------------------------------------------------------------------
# ourrules: our part of mangle, both families, as iptables-save prints it
ourrules() {
	for s in iptables-legacy-save ip6tables-legacy-save; do
		echo "# $s -t mangle"
		ip netns exec "$NS" $s -t mangle | grep -E '^(\*|COMMIT)|IOTJAIL' |
			sed 's/ \[[0-9]*:[0-9]*\]$//'
	done
}
obs="trusted=02:00:00:00:00:0b/10.99.0.2 observed=02:00:00:00:00:0a/10.99.0.1
	observed=02:00:00:00:00:0a/fd99::1 lanprefix=10.98.0.0/16
	lanprefix=fd98::/64 observe-group=5"
# shellcheck disable=SC2086 # $obs: one option per word
run "install with observed devices" drv install bridge=br-jail gen=1 inspect=3 queue=0:2 $obs
ourrules >"$tmp/observed"
[ -z "${IOTJAIL_UPDATE_GOLDEN:-}" ] || cp "$tmp/observed" tests/iptables/observed-save.rules
expect "observed: iptables-save as tests/iptables/observed-save.rules" "" \
	"$(diff tests/iptables/observed-save.rules "$tmp/observed")"
run "reload without observed devices" drv generation bridge=br-jail gen=2 inspect=3 \
	queue=0:2 trusted=02:00:00:00:00:0b/10.99.0.2
expect "reload without observed devices: IOTJAIL-OBSERVE deleted" 0 "$(count mangle 'IOTJAIL-OBSERVE')"
expect "reload without observed devices: NFLOG gone" 0 "$(count mangle 'NFLOG')"
expect "reload without observed devices: trusted kept" 1 "$(count mangle '-j IOTJAIL-TRUST$')"
# shellcheck disable=SC2086
run "reload with observed devices" drv generation bridge=br-jail gen=3 inspect=3 queue=0:2 $obs
expect "reload with observed devices: IOTJAIL-OBSERVE created, both families" 2 \
	"$(count mangle '^:IOTJAIL-OBSERVE ')"
expect "reload with observed devices: their jumps" 2 "$(count mangle '^-A IOTJAIL-FWD .*-j IOTJAIL-OBSERVE$')"
expect "reload with observed devices: NFLOG to group 5" 2 \
	"$(count mangle '^-A IOTJAIL-OBSERVE -j NFLOG --nflog-group 5 --nflog-threshold 16$')"
expect "reload with observed devices: generation 3" 2 \
	"$(count mangle '^-A IOTJAIL-OBSERVE .*--comment observed -j CONNMARK --set-xmark 0x301/0xff03$')"
run "install without observed devices" drv install bridge=br-jail gen=1 inspect=3 queue=0:2
saved >"$tmp/install4"
expect "install over observed devices: the same ruleset as without" "" "$(diff "$tmp/install1" "$tmp/install4")"

# --- set_generation, quarantine -----------------------------------------------------------
run "quarantine add (timeout)" drv qadd 02:00:00:00:00:01 60000
run "quarantine add" drv qadd 02:00:00:00:00:02
expect "quarantine rules, both families" 4 "$(count mangle '^-A IOTJAIL-QUAR -m mac --mac-source 02:00:00:00:00:0[12] ')"
expect "no timeout" 2 "$(count mangle '02:00:00:00:00:02 .*expires=never')"
e1=$(ip netns exec "$NS" iptables-legacy-save -t mangle | sed -n 's/.*02:00:00:00:00:01 .*expires=\([0-9]*\).*/\1/p')
run "quarantine re-add (new timeout)" drv qadd 02:00:00:00:00:01 120000
e2=$(ip netns exec "$NS" iptables-legacy-save -t mangle | sed -n 's/.*02:00:00:00:00:01 .*expires=\([0-9]*\).*/\1/p')
if [ -n "$e1" ] && [ -n "$e2" ] && [ $((e2 - e1)) -ge 59000 ]; then ok; else
	ko "quarantine timeout replaced: expires $e1 -> $e2"
fi
expect "re-add: still one rule per MAC and family" 4 "$(count mangle '^-A IOTJAIL-QUAR ')"
run "set_generation" drv generation bridge=br-jail gen=2 inspect=3 queue=0:2
expect "set_generation: generation 2 marks" 0 "$(count all '0x10[123]/0xff03')"
expect "set_generation: quarantine kept" 4 "$(count mangle '^-A IOTJAIL-QUAR ')"
expect "set_generation: one hook per table and family" 4 "$(count all '^-A FORWARD -j IOTJAIL$')"
run "quarantine del" drv qdel 02:00:00:00:00:02
expect "quarantine del" 0 "$(count mangle '02:00:00:00:00:02')"
expect "quarantine del of an absent MAC" \
	"nftdrv: qdel: No such file or directory (02:00:00:00:00:02 is not quarantined)" \
	"$(drv qdel 02:00:00:00:00:02 2>&1)"
out=$(drv qwait 02:00:00:00:00:03 1000 2>&1)
if [ "$out" -ge 1000 ] 2>/dev/null && [ "$out" -lt 2500 ]; then ok; else
	ko "quarantine with a 1 s timeout released by expire after 1-2.5 s: $out"
fi
expect "expired quarantine gone" 0 "$(count mangle '02:00:00:00:00:03')"
expect "expire: the unexpired one stays" 0 "$(drv expire)"
expect "expire: ... in the ruleset" 2 "$(count mangle '02:00:00:00:00:01')"
run "reinstall" drv install bridge=br-jail gen=1 inspect=3
expect "reinstall empties the quarantine" 0 "$(count mangle '^-A IOTJAIL-QUAR ')"

# A chain missing (damaged by hand): the reload fails, naming the line.
ipt -t mangle -X IOTJAIL-TRUST
out=$(drv generation bridge=br-jail gen=3 inspect=3 2>&1)
case $out in
"nftdrv: generation: No such file or directory (iptables-legacy-restore: line "*" (-F IOTJAIL-TRUST): "*) ok ;;
*) ko "reload with a chain missing: $out" ;;
esac

# --- remove ------------------------------------------------------------------------------------
run "remove" drv remove
saved >"$tmp/removed"
expect "remove: iptables-save as before install" "" "$(diff "$tmp/before" "$tmp/removed")"
run "remove when absent" drv remove
expect "set_generation when absent" \
	"nftdrv: generation: No such file or directory (iptables-legacy-save: no chain of ours (IOTJAIL*): not installed)" \
	"$(drv generation 2>&1)"
expect "an interface name iptables would read as a wildcard" \
	"nftdrv: install: Invalid argument (an interface name iptables cannot match exactly (ends in '+', or has '!', '\"' or '\\'))" \
	"$(drv install bridge=br+ 2>&1)"

if [ "$HAVE_NFT" = 1 ]; then
	# One backend's install removes the other's leftovers (a --keep-table
	# run with the other backend would still queue and judge).
	ip netns exec "$NS" "$DRV" --backend=nft install bridge=br-jail gen=1 inspect=3 >/dev/null 2>&1
	run "install over an nft table" drv install bridge=br-jail gen=1 inspect=3
	expect "the nft table is gone" "" "$(ip netns exec "$NS" nft list tables 2>/dev/null | grep iotjail)"
	run "nft install over iptables chains" ip netns exec "$NS" "$DRV" --backend=nft install bridge=br-jail gen=1 inspect=3
	expect "the iptables chains are gone" 0 "$(count all 'IOTJAIL')"
	ip netns exec "$NS" "$DRV" --backend=nft remove
fi

# --- traffic through a jailed bridge --------------------------------------------------------------
# traffic, send, tcp, counter, snap, delta and the checks *_checks:
# tests/nftables/common.sh.
# listed NAME: packets of the rules commented NAME, as `iptables -L -v`
# prints them, both tables and families (summed: reject has two rules)
listed() {
	for c in iptables-legacy ip6tables-legacy; do
		for t in mangle filter; do
			ip netns exec "$NS" $c -t $t -L -v -x -n
		done
	done | awk -v c="/* $1 */" 'index($0, c) { n += $1 } END { print n + 0 }'
}
# hctr NETNS TABLE NAME: packets of a helper rule commented NAME (-1: none)
hctr() {
	ip netns exec "$1" iptables-legacy -t "$2" -L -v -x -n |
		awk -v c="/* $3 */" 'index($0, c) { n += $1; s = 1 } END { print s ? n : -1 }'
}
# helper RULE...: a rule in chain IJTEST of mangle, which PREROUTING jumps
# to: before our chains, as nft's helper table at priority -10.
helper() { ipt -t mangle -A IJTEST "$@"; }
# marks MARK: every flow's ct mark set to MARK (standing in for the
# daemon's verdicts); "none": no more.
marks() {
	ipt -t mangle -F IJTEST
	[ "$1" = none ] || helper -j CONNMARK --set-mark "$1"
}
# post RULE...: an observer after our hook in filter FORWARD
post() { ipt -A FORWARD "$@"; }

if ! traffic; then
	echo "iptables: traffic tests skipped: cannot build the bridge (br_netfilter?)"
elif [ "$(drv sysctl)" != "acct 1 bridge-nf 1" ]; then
	ko "sysctl helpers: $(drv sysctl)"
else
	ok
	ipt -t mangle -N IJTEST && ipt -t mangle -A PREROUTING -j IJTEST || ko "helper chain"
	basic_checks
	expect "quarantine counter kept after the release" 5 "$(counter quarantine)"

	ctmark_checks
	marks none

	# The verdict chain, fed as the daemon feeds it: the packet mark of a
	# packet accepted from the queue (here: bypassed) carries
	# gen<<8|verdict.  Helper rules set packet marks before our chains
	# (mangle PREROUTING); observers count after them (filter FORWARD).
	run "install for the verdict chain" drv install bridge=br-jail gen=2 inspect=1000 queue=0:2
	bytes="--connbytes-dir both --connbytes-mode packets"
	helper -p udp --sport 5011 -m connmark --mark 0x00010206 -m comment --comment "deny kept bits"
	helper -p tcp --dport 7001 -m comment --comment "tcp out"
	helper -p tcp --sport 7001 -m comment --comment "tcp back"
	helper -p tcp --dport 7001 --tcp-flags FIN,SYN,RST,PSH,ACK ACK -m length --length 0:100 -m comment --comment "ack out"
	helper -p tcp --sport 7001 --tcp-flags FIN,SYN,RST,PSH,ACK ACK -m length --length 0:100 -m comment --comment "ack back"
	helper -p udp --sport 5010 -m connmark --mark 0/0xff03 -j MARK --set-mark 0x20285
	helper -p udp --sport 5010 -m connmark --mark 0/0xff03 -j CONNMARK --set-xmark 0x10004/0x10004
	helper -p udp --sport 5011 -m connmark --mark 0/0xff03 -m connbytes --connbytes 2:2 $bytes -j MARK --set-mark 0x202
	helper -p udp --sport 5011 -m connmark --mark 0/0xff03 -m connbytes --connbytes 2:2 $bytes -j CONNMARK --set-xmark 0x10004/0x10004
	helper -p udp --sport 5012 -m connmark --mark 0/0xff03 -j MARK --set-mark 0x202
	helper -p udp --sport 5013 -m connbytes --connbytes 2:2 $bytes -j MARK --set-mark 0x102
	helper -p udp --sport 5014 -m connbytes --connbytes 2:2 $bytes -j MARK --set-mark 0x101
	helper -p udp --sport 5015 -m connbytes --connbytes 2:2 $bytes -j MARK --set-mark 0x203
	helper -p udp --sport 5016 -m connbytes --connbytes 2:2 $bytes -j MARK --set-mark 0x207
	helper -p tcp --sport 6002 --tcp-flags SYN SYN -j MARK --set-mark 0x203
	post -p udp --sport 5010 -m mark ! --mark 0/0xff03 -m comment --comment leak
	post -p udp --sport 5010 -m mark --mark 0x00020084 -m comment --comment kept
	post -p udp --sport 5010 -m connmark --mark 0x00010205 -m comment --comment "ct mark"
	pre() { hctr "$NS" mangle "$1"; }
	seen() { hctr "$NS" filter "$1"; }
	aseen() { hctr "$NSA" filter "$1"; }
	ip netns exec "$NSA" iptables-legacy -A INPUT -p icmp --icmp-type 3/13 -m comment --comment admin &&
		ip netns exec "$NSA" iptables-legacy -A INPUT -p tcp --tcp-flags RST RST -m comment --comment rst &&
		ok || ko "A's observer rules"
	verdict_checks
	trusted_checks
	observed_checks

	# Every counter as `iptables -L -v` lists it, and carried by a reload:
	# fresh flows (new source ports) for each counter but ack.  A is
	# observed, but its flows to B (a LAN prefix) are not: only its flow
	# to 10.99.0.3 (outside, through B's port) is.
	devs="trusted=02:00:00:00:00:0b/10.99.0.2 observed=02:00:00:00:00:0a/10.99.0.1
		lanprefix=10.99.0.2/32 observe-group=5"
	# shellcheck disable=SC2086 # $devs: one option per word
	run "reinstall for the counters" drv install bridge=br-jail gen=2 inspect=3 queue=0:2 $devs
	helper -p udp --sport 5030 -m connmark --mark 0/0xff03 -j MARK --set-mark 0x201
	helper -p udp --sport 5031 -m connbytes --connbytes 2:2 $bytes -j MARK --set-mark 0x202
	helper -p udp --sport 5032 -m connbytes --connbytes 2:2 $bytes -j MARK --set-mark 0x203
	helper -p udp --sport 5033 -m connbytes --connbytes 2:2 $bytes -j MARK --set-mark 0x207
	for p in 5030 5031 5032 5033 5034; do send $p 5 >/dev/null; done
	run "quarantine for the counters" drv qadd 02:00:00:00:00:0a
	send 5035 2 >/dev/null
	run "release" drv qdel 02:00:00:00:00:0a
	ip netns exec "$NSB" "$DRV" udp-send 10.99.0.1 7000 5036 2
	ip -n "$NSA" neigh replace 10.99.0.3 lladdr 02:00:00:00:00:0b dev eth0
	ip netns exec "$NSA" "$DRV" udp-send 10.99.0.3 7000 5037 2
	listed_checks
	expect "counters: all but ack counted something" 0 \
		"$(drv counters | awk -F '\t' '$1 != "ack" && $2 == 0' | wc -l)"
	drv counters >"$tmp/c1"
	# shellcheck disable=SC2086
	run "set_generation 3" drv generation bridge=br-jail gen=3 inspect=3 queue=0:2 $devs
	drv counters >"$tmp/c2"
	expect "set_generation carries every counter" "$(cat "$tmp/c1")" "$(cat "$tmp/c2")"
	ipt -t mangle -F IJTEST

	tail_checks
	expect "fail-closed: no --queue-bypass" 0 "$(count mangle 'queue-bypass')"

	# IPv6: ip6tables' half of the ruleset.
	for n in "$NS" "$NSA" "$NSB"; do
		ip netns exec "$n" sh -c 'echo 0 >/proc/sys/net/ipv6/conf/all/disable_ipv6;
			echo 0 >/proc/sys/net/ipv6/conf/default/disable_ipv6;
			for i in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 0 >$i; done' 2>/dev/null
	done
	ip -n "$NSA" addr add fd99::1/64 dev eth0 nodad &&
		ip -n "$NSB" addr add fd99::2/64 dev eth0 nodad || ko "IPv6 addresses"
	run "install for IPv6" drv install bridge=br-jail gen=1 inspect=3
	ping6() { ip netns exec "$NSA" ping -6 -n -c 3 -i 0.2 -W 1 fd99::2 2>&1 | grep -c 'bytes from'; }
	expect "IPv6: ping passes (bypass, then budget)" 3 "$(ping6)"
	v6q=$(ip netns exec "$NS" ip6tables-legacy -t mangle -L IOTJAIL-FWD -v -x -n | awk 'index($0, "/* queue */") { print $1 }')
	if [ "${v6q:-0}" -ge 1 ]; then ok; else ko "IPv6: ip6tables' queue rule counted nothing"; fi
	run "quarantine A (IPv6)" drv qadd 02:00:00:00:00:0a
	expect "IPv6: quarantined MAC is dropped" 0 "$(ping6)"
	v6d=$(ip netns exec "$NS" ip6tables-legacy -t mangle -L IOTJAIL-QDROP -v -x -n | awk 'index($0, "/* quarantine */") { print $1 }')
	if [ "${v6d:-0}" -ge 3 ]; then ok; else ko "IPv6: quarantine drops counted by ip6tables: ${v6d:-none}"; fi
	run "remove after traffic" drv remove
	expect "remove after traffic: no chain of ours" 0 "$(count all 'IOTJAIL')"
fi

echo "iptables: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
