#!/bin/bash
# iotjaild --backend iptables inline in the namespace lab (tests/lab/lab.sh,
# bridge mode, prefix ijp<pid>), real clients and services: the legacy
# iptables ruleset doing what the nft one does in tests/integration/run.sh.
#
#   B=build bash tests/iptables/live.sh       (root; `make integration`)
#
# Checks: the daemon says it enforces with iptables and installs chains
# IOTJAIL*, never a table inet iotjail; allowed services work, a denied one
# is blocked and counted by the kernel; an iperf3 bulk flow leaves
# userspace after its verdict (queue counter); SIGHUP reloads into a new
# generation; quarantine cuts a device off and the daemon releases it at
# its timeout; SIGKILL fails open (chains left, queue bypassed); a restart
# over the leftovers duplicates nothing; SIGTERM removes every chain.
# One line per check (`ok - ...` / `FAIL - ...`), then
# `iptables live: N passed, M failed`; SKIP line without root or tools.
# Everything it makes is removed on exit, INT and TERM, by name.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
cd "$TOP" || exit 1
B=${B:-build}
D=$TOP/$B/iotjaild
LAB=$TOP/tests/lab/lab.sh
LABPOL=$TOP/docs/examples/lab.yaml
QPOL=$TOP/tests/integration/policies/quarantine.yaml

skip() { echo "iptables live: SKIP: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root"
for t in ip iptables-legacy-save ip6tables-legacy-save dnsmasq mosquitto \
	openssl iperf3 python3 dig curl timeout; do
	command -v "$t" >/dev/null 2>&1 || skip "missing tool: $t"
done
[ -x "$D" ] || { echo "iptables live: $D is not built (make B=$B)" >&2; exit 1; }

P=$(printf 'ijp%s' "$$" | cut -c1-10)
RUN=/run/$P
BR=$P-br
TMP=$(mktemp -d "${TMPDIR:-/tmp}/iotjail-ipt-live.XXXXXX") || exit 1
PASS=0 FAIL=0 DPID="" DERR="" DOUT=""
SRV4=192.168.50.1 WWW4=192.168.50.3 MQTT4=192.168.50.2
CAM_MAC=02:00:00:00:50:10
OKBODY="iotjail lab $P OK"

cleanup() {
	trap - EXIT INT TERM HUP
	if [ -n "$DPID" ]; then
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	# The namespaces take our chains with them.
	LAB_QUIET=1 "$LAB" down "$P" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "iptables live: interrupted"; exit 130' INT TERM HUP

ok() { PASS=$((PASS + 1)); echo "ok - $1${2:+: $2}"; }
bad() {
	FAIL=$((FAIL + 1))
	echo "FAIL - $1${2:+: $2}"
	[ -n "$DERR" ] && tail -n 8 "$DERR" | sed 's/^/#   /'
}
check() { # check NAME DETAIL COND...
	local name=$1 detail=$2
	shift 2
	if "$@"; then ok "$name" "$detail"; else bad "$name" "$detail"; fi
}
is_num() { case ${1:-x} in *[!0-9]*) return 1 ;; esac; }
in_ns() { local n=$1; shift; timeout 20 ip netns exec "$P-$n" "$@"; }
wait_until() { # wait_until SECONDS CMD...
	local t=$(($1 * 10))
	shift
	while [ $t -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}
dns() { local n=$1; shift; in_ns "$n" dig +time=1 +tries=2 +short "$@" 2>&1 | paste -sd ' '; }
dns1() { local n=$1; shift; in_ns "$n" dig +time=1 +tries=1 +short "$@" 2>&1 | paste -sd ' '; }
get() { local n=$1 m=$2; shift 2; in_ns "$n" curl -gsS --max-time "$m" "$@" 2>&1; }

# The ruleset as iptables-save shows it in the bridge namespace.
saved() {
	for s in iptables-legacy-save ip6tables-legacy-save; do
		ip netns exec "$BR" $s -c 2>/dev/null
	done
}
chains() { saved | grep -c '^:IOTJAIL'; }
hooks() { saved | grep -c '^\[[0-9:]*\] -A FORWARD -j IOTJAIL$'; }
# ctr NAME: packets of the rules commented NAME, both tables and families
ctr() {
	saved | awk -v c="$1" '
		/^\[/ && (index($0, "--comment \"" c "\" ") || index($0, "--comment " c " ")) {
			split(substr($1, 2), a, ":"); n += a[1]
		}
		END { print n + 0 }'
}
ctr_bytes() {
	saved | awk -v c="$1" '
		/^\[/ && (index($0, "--comment \"" c "\" ") || index($0, "--comment " c " ")) {
			sub(/\]$/, "", $1); split(substr($1, 2), a, ":"); n += a[2]
		}
		END { printf "%.0f\n", n + 0 }'
}

# dstart NAME ARGS...: iotjaild -f --backend iptables on br0; ready when
# its pid file names it (10 s).
dstart() {
	local name=$1 i
	shift
	DERR=$TMP/$name.err DOUT=$TMP/$name.out
	rm -f "$RUN/iotjaild.pid"
	ip netns exec "$BR" "$D" -f --backend iptables --bridge br0 \
		--pid-file "$RUN/iotjaild.pid" --state '' --control "$RUN/control.sock" "$@" >"$DOUT" 2>"$DERR" </dev/null &
	DPID=$!
	for i in $(seq 100); do
		[ "$(cat "$RUN/iotjaild.pid" 2>/dev/null)" = "$DPID" ] && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# dstop: SIGTERM; DRC its exit status ("hung" if it had to be killed)
dstop() {
	local i rc
	kill -TERM "$DPID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	DRC=""
	if kill -0 "$DPID" 2>/dev/null; then
		kill -KILL "$DPID"
		DRC=hung
	fi
	wait "$DPID"
	rc=$?
	[ "$DRC" = hung ] || DRC=$rc
	DPID=""
}
dkill9() {
	kill -KILL "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=""
}
stop_check() {
	local why=""
	dstop
	[ "$DRC" = 0 ] || why="exit status $DRC;"
	[ "$(chains)" = 0 ] || why="$why $(chains) chains IOTJAIL* left;"
	grep -q 'kernel packets: ' "$DERR" || why="$why no kernel counters logged;"
	# (the SAN=1 build runs these tests too)
	! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer' "$DERR" ||
		why="$why sanitizer report;"
	check "$1: SIGTERM: exit 0, counters logged, every IOTJAIL chain removed" "$why" [ -z "$why" ]
}

echo "# iptables live: $D, lab $P"
if ! LAB_QUIET=1 "$LAB" up "$P" >"$TMP/lab-up.log" 2>&1; then
	bad "lab up" "$(tr '\n' ' ' <"$TMP/lab-up.log" | cut -c1-200)"
	echo "iptables live: $PASS passed, $FAIL failed"
	exit 1
fi
ok "lab up" "prefix $P"

# --- the lab policy, enforcing -------------------------------------------------
cp "$LABPOL" "$TMP/policy.yaml"
if dstart main -c "$TMP/policy.yaml" --workers 2 --alerts "$RUN/alerts.jsonl"; then
	BUDGET=$(sed -nE 's/.*kernel budget ([0-9]+).*/\1/p' "$DERR" | head -n 1)
	check "iotjaild ready with --backend iptables" \
		"$(grep -m1 'enforcing with' "$DERR" | sed 's/.*: enforcing/enforcing/')" \
		eval 'grep -q "enforcing with iptables, iptables-restore v" "$DERR" && is_num "$BUDGET"'
	check "chains IOTJAIL* installed (v4 and v6), hooked once per table, no nft table" \
		"$(chains) chains, $(hooks) hooks" \
		eval '[ "$(chains)" = 18 ] && [ "$(hooks)" = 4 ] && ! ip netns exec "$BR" nft list table inet iotjail >/dev/null 2>&1'

	r=$(dns cam @$SRV4 cam.vendor-cloud.test A)
	check "cam: dig cam.vendor-cloud.test @$SRV4 (allowed)" "$r" [ "$r" = "$SRV4" ]
	r=$(dns cam @fd50::1 cam.vendor-cloud.test AAAA)
	check "cam: dig AAAA over IPv6 (allowed, through ip6tables)" "$r" [ "$r" = "fd50::1" ]
	r=$(get laptop 5 http://www.example.test/)
	check "laptop: curl http://www.example.test/ (allowed)" "$r" [ "$r" = "$OKBODY" ]
	a0=$(ctr "mark allow")
	check "kernel: allow verdicts copied into conntrack (mark allow)" "$a0" eval '[ "$a0" -ge 2 ]'

	d0=$(ctr "mark deny") e0=$(ctr deny)
	r=$(get cam 2 -4 http://www.example.test/)
	rc=$?
	check "cam: curl -4 http://www.example.test/ blocked (no rule allows HTTP)" \
		"curl rc=$rc" eval '[ $rc != 0 ] && [ "$r" != "$OKBODY" ]'
	md=$(($(ctr "mark deny") - d0)) dd=$(($(ctr deny) - e0))
	check "kernel: the deny verdict applied (mark deny, then deny)" "mark deny +$md, deny +$dd" \
		eval '[ "$md" -ge 1 ] && [ "$dd" -ge 1 ]'
	wait_until 2 grep -q '"device":{"name":"cam"' "$RUN/alerts.jsonl" 2>/dev/null ||
		wait_until 2 grep -q 'service_not_allowed_out' "$RUN/alerts.jsonl"
	check "alert service_not_allowed_out for the cam" "" grep -q 'service_not_allowed_out' "$RUN/alerts.jsonl"

	# A bulk flow leaves userspace after its verdict.
	q0=$(ctr queue) b0=$(ctr_bytes allow)
	in_ns laptop iperf3 -c $WWW4 -p 5201 -t 3 -J >"$TMP/iperf.json" 2>"$TMP/iperf.err"
	rc=$?
	bytes=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"]))' "$TMP/iperf.json" 2>/dev/null)
	dq=$(($(ctr queue) - q0)) db=$(($(ctr_bytes allow) - b0))
	check "laptop: iperf3 3 s to $WWW4:5201" "rc=$rc, ${bytes:-?} bytes" eval '[ $rc = 0 ] && is_num "$bytes"'
	check "kernel: the iperf3 flows stayed out of userspace after their verdicts" \
		"queue +$dq packets (bound 2 x budget = $((2 * BUDGET)))" eval '[ "$dq" -le $((2 * BUDGET)) ]'
	check "kernel: the allow rule carried the transfer" "allow +$db bytes for ${bytes:-?}" \
		eval 'is_num "$bytes" && [ "$db" -ge $((bytes / 10 * 9)) ]'

	# SIGHUP: a changed policy is a new generation in the chains.
	g1=$(sed -nE 's/.*ready: .*generation ([0-9]+).*/\1/p' "$DERR" | head -n 1)
	echo "# changed" >>"$TMP/policy.yaml"
	kill -HUP "$DPID"
	wait_until 5 grep -qE 'reload: generation [0-9]+ from' "$DERR"
	g2=$(sed -nE 's/.*reload: generation ([0-9]+) from.*/\1/p' "$DERR" | tail -n 1)
	m2=$(printf '0x%x/0xff03' $(((${g2:-0} << 8) | 1)))
	check "SIGHUP: reload into a new generation, its marks in the chains, hooks untouched" \
		"generation $g1 -> ${g2:-none}; $(saved | grep -c -- "$m2") rules with $m2; $(hooks) hooks" \
		eval 'is_num "$g2" && [ "$g2" != "$g1" ] && [ "$(saved | grep -c -- "$m2")" -ge 4 ] && [ "$(hooks)" = 4 ]'
	r=$(get laptop 5 http://www.example.test/)
	check "after the reload: laptop still browses, cam still blocked" "$r" \
		eval '[ "$r" = "$OKBODY" ] && [ "$(get cam 2 -4 http://www.example.test/)" != "$OKBODY" ]'
	stop_check main
else
	bad "iotjaild ready with --backend iptables" "$(tr '\n' ' ' <"$DERR" | cut -c1-300)"
fi

# --- quarantine, released by the daemon at its timeout ------------------------
in_quarantine() { saved | grep -qi -- "--mac-source $CAM_MAC "; }
if dstart quarantine -c "$QPOL" -q --quarantine-timeout 6; then
	r=$(dns cam @$SRV4 cam.vendor-cloud.test A)
	check "quarantine: cam DNS allowed before" "$r" [ "$r" = "$SRV4" ]
	in_ns cam ip addr add 192.168.50.12/24 dev eth0
	tq=$(date +%s%N)
	get cam 1 -4 --interface 192.168.50.12 "http://$WWW4/" >/dev/null
	wait_until 3 in_quarantine
	rc=$?
	check "quarantine: cam ($CAM_MAC) in IOTJAIL-QUAR after its flow from an undeclared address" \
		"$(saved | grep -m1 -i -- "--mac-source $CAM_MAC" | sed 's/^\[[0-9:]*\] //')" [ $rc = 0 ]
	r=$(dns1 cam @$SRV4 cam.vendor-cloud.test A)
	check "quarantine: cam can no longer do its allowed DNS" "dig: $r" [ "$r" != "$SRV4" ]
	r=$(get laptop 3 http://www.example.test/)
	check "quarantine: laptop still browses" "$r" [ "$r" = "$OKBODY" ]
	n=$(ctr quarantine)
	check "kernel: quarantine counter" "$n packets dropped" eval '[ "$n" -ge 1 ]'
	wait_until 12 eval '! in_quarantine'
	rc=$?
	gone=$((($(date +%s%N) - tq) / 1000000))
	check "quarantine: released by the daemon at the 6 s --quarantine-timeout" \
		"gone ${gone} ms after the flow" eval '[ $rc = 0 ] && [ "$gone" -ge 5500 ]'
	r=$(dns cam @$SRV4 cam.vendor-cloud.test A)
	check "quarantine: cam DNS works again after the release" "$r" [ "$r" = "$SRV4" ]
	in_ns cam ip addr del 192.168.50.12/24 dev eth0
	stop_check quarantine
else
	bad "quarantine: iotjaild ready" "$(tr '\n' ' ' <"$DERR" | cut -c1-300)"
fi

# --- SIGKILL: fail-open, then a restart over the leftovers ------------------------
if dstart kill -c "$LABPOL" -q; then
	r=$(get cam 2 -4 http://www.example.test/)
	check "fail-open: enforcing before the kill (cam curl blocked)" "" [ "$r" != "$OKBODY" ]
	saved | grep -v '^#' | sed 's/^\[[0-9:]*\] //; s/ \[[0-9:]*\]$//' >"$TMP/ruleset.fresh"
	dkill9
	q0=$(ctr queue)
	check "fail-open: kill -9: the chains stay" "$(chains) chains" [ "$(chains)" = 18 ]
	r=$(dns cam @$SRV4 cam.vendor-cloud.test A)
	check "fail-open: cam's allowed DNS passes with no daemon" "$r" [ "$r" = "$SRV4" ]
	r=$(get cam 3 -4 http://www.example.test/)
	check "fail-open: cam's HTTP, never allowed, passes too (queue bypass)" "" [ "$r" = "$OKBODY" ]
	dq=$(($(ctr queue) - q0))
	check "fail-open: the queue rule saw those packets (bypassed)" "queue +$dq" [ "$dq" -ge 1 ]
else
	bad "fail-open: iotjaild ready" "$(tr '\n' ' ' <"$DERR" | cut -c1-300)"
fi
if dstart restart -c "$LABPOL" -q; then
	saved | grep -v '^#' | sed 's/^\[[0-9:]*\] //; s/ \[[0-9:]*\]$//' >"$TMP/ruleset.restart"
	check "restart over the killed daemon's chains: the same ruleset, nothing duplicated" \
		"$(diff "$TMP/ruleset.fresh" "$TMP/ruleset.restart" | grep -c '^[<>]') lines differ" \
		diff -q "$TMP/ruleset.fresh" "$TMP/ruleset.restart"
	r=$(get cam 2 -4 http://www.example.test/)
	check "restart: enforcement restored (cam curl blocked again)" "" [ "$r" != "$OKBODY" ]
	stop_check restart
else
	bad "restart: iotjaild ready" "$(tr '\n' ' ' <"$DERR" | cut -c1-300)"
fi

echo "iptables live: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
