#!/bin/sh
# Smoke test for the iotjail network lab: bring up a private lab, run real
# clients from the device namespaces through the plain bridge (no iotjail),
# tear it down. Prints one line per check and "lab smoke: N passed, M failed".
# Skips (exit 0) when not root or a needed tool is missing. POSIX sh.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
LAB=$HERE/lab.sh

skip() { echo "lab smoke: SKIP: $*"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip "not root"
for t in ip ss sysctl timeout dnsmasq mosquitto mosquitto_pub mosquitto_sub openssl iperf3 \
	python3 dig curl ping awk sort; do
	command -v "$t" >/dev/null 2>&1 || skip "missing tool: $t"
done

P=$(printf 'ijs%s' "$$" | cut -c1-10)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ijlab-smoke.XXXXXX") || exit 1
PASS=0
FAIL=0
T0=$(date +%s)

cleanup() {
	trap - EXIT INT TERM HUP
	LAB_QUIET=1 "$LAB" down "$P"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "lab smoke: interrupted"; exit 130' INT TERM HUP

ok()   { PASS=$((PASS + 1)); echo "ok   $1${2:+: $2}"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL $1${2:+: $2}"; }
in_ns() { _n=$1; shift; timeout 15 "$LAB" run "$P" "$_n" "$@"; }
oneline() { tr '\n' ' ' <"$1" | cut -c1-200; }

if ! LAB_QUIET=1 "$LAB" up "$P" >"$TMP/up.log" 2>&1; then
	bad "lab up" "$(oneline "$TMP/up.log")"
	echo "lab smoke: $PASS passed, $FAIL failed"
	exit 1
fi
ok "lab up" "prefix $P in $(($(date +%s) - T0)) s"

SRV4=192.168.50.1 SRV6=fd50::1 MQTT4=192.168.50.2
CA=/run/$P/tls/cert.pem

# --- DNS (IPv4 transport, A record)
r=$(in_ns cam dig +time=2 +tries=2 +short @$SRV4 cam.vendor-cloud.test A 2>&1)
[ "$r" = "$SRV4" ] && ok "dns4 cam: cam.vendor-cloud.test A" "$r" || bad "dns4 cam: cam.vendor-cloud.test A" "got '$r'"

# --- DNS (IPv6 transport, AAAA record)
r=$(in_ns plug dig +time=2 +tries=2 +short @$SRV6 mqtt.plugcloud.test AAAA 2>&1)
[ "$r" = "fd50::2" ] && ok "dns6 plug: mqtt.plugcloud.test AAAA" "$r" || bad "dns6 plug: mqtt.plugcloud.test AAAA" "got '$r'"

# --- HTTP over IPv4, by name (per-namespace resolv.conf -> lab dnsmasq)
r=$(in_ns laptop curl -fsS --max-time 5 http://www.example.test/ 2>&1)
case $r in *"iotjail lab $P OK"*) ok "http4 laptop: GET http://www.example.test/" "$r" ;;
	*) bad "http4 laptop: GET http://www.example.test/" "$r" ;; esac

# --- HTTP over IPv6
r=$(in_ns cam curl -gfsS --max-time 5 "http://[$SRV6]/" 2>&1)
case $r in *"iotjail lab $P OK"*) ok "http6 cam: GET http://[$SRV6]/" "$r" ;;
	*) bad "http6 cam: GET http://[$SRV6]/" "$r" ;; esac

# --- MQTT: laptop subscribes, plug publishes (repeat until received)
MSG="hello-from-plug-$$"
in_ns laptop mosquitto_sub -h $MQTT4 -t "lab/smoke/$P" -C 1 -W 10 >"$TMP/sub.out" 2>&1 &
SUBPID=$!
i=0
while kill -0 $SUBPID 2>/dev/null && [ $i -lt 40 ]; do
	in_ns plug mosquitto_pub -h $MQTT4 -q 1 -t "lab/smoke/$P" -m "$MSG" >"$TMP/pub.out" 2>&1
	sleep 0.2
	i=$((i + 1))
done
wait $SUBPID
if grep -qx "$MSG" "$TMP/sub.out"; then
	ok "mqtt plug->laptop via $MQTT4:1883" "received after $i publish(es)"
else
	bad "mqtt plug->laptop via $MQTT4:1883" "sub: $(oneline "$TMP/sub.out") pub: $(oneline "$TMP/pub.out")"
fi

# --- TLS handshake with SNI, verified against the lab's self-signed cert
in_ns cam openssl s_client -connect $SRV4:443 -servername cam.vendor-cloud.test \
	-CAfile "$CA" -verify_return_error -verify_hostname cam.vendor-cloud.test \
	</dev/null >"$TMP/tls.out" 2>&1
rc=$?
proto=$(grep -m1 -E '^New, ' "$TMP/tls.out" | sed 's/^New, //')
if [ $rc -eq 0 ] && grep -q 'Verify return code: 0 (ok)' "$TMP/tls.out"; then
	ok "tls cam: SNI cam.vendor-cloud.test :443" "$proto, verify ok"
else
	bad "tls cam: SNI cam.vendor-cloud.test :443" "rc=$rc $(grep -m2 -iE 'error|verify' "$TMP/tls.out" | tr '\n' ' ')"
fi

# --- iperf3, 2 s TCP
in_ns cam iperf3 -c $SRV4 -p 5201 -t 2 -f m >"$TMP/iperf.out" 2>&1
rc=$?
rate=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i ~ /bits\/sec$/) { print $(i-1), $i; exit } }' "$TMP/iperf.out")
if [ $rc -eq 0 ] && [ -n "$rate" ]; then
	ok "iperf3 cam->srv 2 s" "$rate"
else
	bad "iperf3 cam->srv 2 s" "rc=$rc $(tail -n 2 "$TMP/iperf.out" | tr '\n' ' ')"
fi

# --- ping latency, 200 x 10 ms, IPv4 and IPv6
pingcheck() {
	_name=$1 _node=$2 _dst=$3
	in_ns "$_node" ping -n -c 200 -i 0.01 -W 1 "$_dst" >"$TMP/ping.out" 2>&1
	_stats=$(grep -o 'time=[0-9.]*' "$TMP/ping.out" | cut -d= -f2 | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) exit 1
			p50 = int(NR * 0.50 + 0.999); p99 = int(NR * 0.99 + 0.999)
			printf "%d replies, p50 %.3f ms, p99 %.3f ms", NR, v[p50], v[p99]
		}')
	_n=${_stats%% *}
	if [ -n "$_stats" ] && [ "$_n" -ge 190 ]; then
		ok "$_name" "$_stats"
	else
		bad "$_name" "${_stats:-no replies} $(tail -n 2 "$TMP/ping.out" | tr '\n' ' ')"
	fi
}
pingcheck "ping4 laptop->srv x200" laptop $SRV4
pingcheck "ping6 plug->srv x200" plug $SRV6

# --- bridge namespace sanity: br_netfilter + conntrack accounting on
r=$(in_ns br sysctl -n net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.netfilter.nf_conntrack_acct 2>&1 | tr '\n' ' ')
[ "$r" = "1 1 1 " ] && ok "bridge ns sysctls" "bridge-nf-call-iptables/ip6tables, nf_conntrack_acct = 1" \
	|| bad "bridge ns sysctls" "$r"

# --- teardown leaves nothing behind
LAB_QUIET=1 "$LAB" down "$P"
left=$(ip netns list | grep -c "^$P-")
if [ "$left" -eq 0 ] && [ ! -e "/run/$P" ] && [ ! -e "/etc/netns/$P-cam" ]; then
	ok "lab down" "namespaces, /run/$P, /etc/netns/$P-* removed"
else
	bad "lab down" "$left namespaces left"
fi

echo "lab smoke: total $(($(date +%s) - T0)) s"
echo "lab smoke: $PASS passed, $FAIL failed"
[ $FAIL -eq 0 ]
