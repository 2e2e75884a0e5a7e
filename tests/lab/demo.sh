#!/bin/bash
# The live demo (`make demo`): a namespace lab with a camera, a smart plug and
# a laptop behind a bridge, real services behind it, iotjaild enforcing
# docs/examples/lab.yaml inline.  Every device does its normal traffic, then
# the camera misbehaves.  The daemon's verdict and alert lines are printed as
# they happen, then a summary; the lab is torn down at the end (or on ^C).
#
#   tests/lab/demo.sh [BUILD_DIR]        (root)
set -u
B=${1:-${B:-build}}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
lab="$here/lab.sh"
P=ijdemo$$
P=${P:0:10}
policy="$top/docs/examples/lab.yaml"
run="/run/$P"
daemon_pid=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -TERM "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	"$lab" down "$P" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Runs a client in a device namespace; prints what happened in one line.
try() {
	local what=$1 node=$2
	shift 2
	if "$lab" run "$P" "$node" timeout 6 "$@" >/tmp/$P.out 2>&1; then
		printf '   %-52s passed\n' "$what"
	else
		printf '   %-52s blocked\n' "$what"
	fi
}

if [ "$(id -u)" != 0 ]; then
	echo "demo: the live demo needs root (network namespaces, nftables)" >&2
	exit 2
fi
[ -x "$top/$B/iotjaild" ] || { echo "demo: build first (make)" >&2; exit 2; }

say "building the lab: camera, smart plug, laptop behind bridge br0; DNS, web, MQTT, TLS behind it"
"$lab" up "$P" | sed 's/^/   /' || exit 1

say "starting iotjaild on br0 with $policy"
ip netns exec "$P-br" "$top/$B/iotjaild" -f -c "$policy" --bridge br0 \
	--pid-file "$run/iotjaild.pid" --alerts "$run/alerts.jsonl" \
	--flows "$run/flows.jsonl" --state "$run/state" --control "$run/control.sock" &
daemon_pid=$!
for _ in $(seq 100); do
	[ -s "$run/iotjaild.pid" ] && break
	kill -0 "$daemon_pid" 2>/dev/null || { echo "demo: iotjaild did not start" >&2; exit 1; }
	sleep 0.1
done
[ -s "$run/iotjaild.pid" ] || { echo "demo: iotjaild not ready after 10 s" >&2; exit 1; }
sleep 0.5

cafile="$run/tls/cert.pem"
say "the camera resolves its cloud and calls it over TLS (allowed)"
try "cam: dig cam.vendor-cloud.test" cam dig +short +time=2 +tries=1 cam.vendor-cloud.test
try "cam: TLS to cam.vendor-cloud.test (IPv4, SNI, verified)" cam \
	openssl s_client -4 -connect cam.vendor-cloud.test:443 -servername cam.vendor-cloud.test \
	-CAfile "$cafile" -verify_return_error -brief </dev/null
try "cam: TLS over IPv6 to [fd50::1]" cam \
	openssl s_client -connect '[fd50::1]:443' -servername cam.vendor-cloud.test \
	-CAfile "$cafile" -verify_return_error -brief </dev/null

say "the smart plug reports to its MQTT broker (allowed)"
try "plug: dig mqtt.plugcloud.test" plug dig +short +time=2 +tries=1 mqtt.plugcloud.test
try "plug: MQTT publish to 192.168.50.2:1883" plug mosquitto_pub -h 192.168.50.2 -t plug/power -m 42

say "the laptop browses and downloads (anything goes out)"
try "laptop: curl http://www.example.test/" laptop curl -sf http://www.example.test/
try "laptop: iperf3 2 s to 192.168.50.3" laptop iperf3 -c 192.168.50.3 -t 2
sleep 0.3

say "the camera misbehaves: it browses the web and talks MQTT (denied, alerted)"
try "cam: curl http://www.example.test/" cam curl -sf --max-time 3 http://www.example.test/
try "cam: MQTT publish to 192.168.50.2:1883" cam mosquitto_pub -h 192.168.50.2 -t cam/exfil -m secret
sleep 0.5

say "what the daemon knows, through its control socket (iotjailctl devices)"
"$top/$B/iotjailctl" -s "$run/control.sock" devices | sed 's/^/   /'

say "stopping iotjaild (SIGTERM): counters and per-device summary"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=

say "summary"
flows=$(wc -l <"$run/flows.jsonl")
alerts=$(wc -l <"$run/alerts.jsonl")
denied=$(grep -c '"verdict":"deny"' "$run/flows.jsonl")
allowed=$(grep -c '"verdict":"allow"' "$run/flows.jsonl")
echo "   $flows flows judged: $allowed allowed, $denied denied; $alerts alerts"
echo "   alerts (JSON lines, as written to the alert log):"
sed 's/^/     /' "$run/alerts.jsonl"
[ "$rc" = 0 ] || { echo "demo: iotjaild exited with $rc" >&2; exit 1; }
