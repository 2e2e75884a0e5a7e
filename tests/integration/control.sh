# The control socket and iotjailctl (issue 6), sourced by run.sh: the lab
# is up, no daemon runs; run.sh's helpers (dstart, check, in_ns...) apply.
#
# The daemon answers iotjailctl on a socket of its own under $TMP (dstart's
# --control); each check drives it the way a user would and looks at the
# traffic or the kernel for the effect.

CTL=$TOP/$B/iotjailctl
CSOCK=$TMP/control.sock
ctl() { "$CTL" -s "$CSOCK" "$@"; }
# cjson OUT PYEXPR: evaluate PYEXPR on the JSON reply in file OUT (as `r`)
cjson() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1; }

# ============================================= 11. control socket ======
cp "$LABPOL" "$RUN/ctl.yaml"
if dstart control "$P-br" "$RUN/iotjaild.pid" -c "$RUN/ctl.yaml" --bridge br0 -q \
	--workers 2 --alerts "$RUN/ctl-alerts.jsonl"; then
	mode=$(stat -c %a "$CSOCK" 2>/dev/null)
	check "control: the socket is the daemon's, mode 0600" "$CSOCK mode $mode" [ "$mode" = 600 ]

	ctl status >"$TMP/ctl.status" 2>&1
	rc=$?
	check "control: iotjailctl status" "rc=$rc: $(head -n 3 "$TMP/ctl.status" | tr '\n' ' ')" \
		eval '[ $rc = 0 ] && grep -q "^policy: $RUN/ctl.yaml, generation [0-9]" "$TMP/ctl.status" &&
		      grep -q "^queue 1: " "$TMP/ctl.status"'
	ctl --json status >"$TMP/ctl.json"
	r=$(cjson "$TMP/ctl.json" '(r["mode"], r["interfaces"], len(r["queues"]), r["backend"], "NFQUEUE" in r["kernel"], r["failure"])')
	check "control: status --json: mode, bridge, queues, backend, failure policy" "$r" \
		[ "$r" = "('bridge', ['br0'], 2, 'nft', True, 'open')" ]

	# A second daemon on the same socket stops before it touches the kernel.
	timeout 10 ip netns exec "$P-br" "$D" -f -c "$RUN/ctl.yaml" --bridge br0 --state '' \
		--pid-file "$TMP/second.pid" --control "$CSOCK" >"$TMP/second.out" 2>&1
	rc=$?
	check "control: a second daemon on the same socket refuses to start" \
		"rc=$rc: $(grep -m1 'control socket' "$TMP/second.out")" \
		eval '[ $rc = 1 ] && grep -q "another daemon answers on it" "$TMP/second.out" && ctl status >/dev/null'

	# devices and flows after the cam's normal traffic
	r=$(dns cam @$SRV4 cam.vendor-cloud.test A)
	ctl --json devices cam >"$TMP/ctl.json"
	d=$(cjson "$TMP/ctl.json" '[(x["name"], x.get("mac"), x.get("ipv4"), x["flows"]["flows"] >= 1, x["policy_mode"]) for x in r["devices"]]')
	check "control: devices cam: its MAC, address, flows and mode" "dig: $r; $d" \
		[ "$d" = "[('cam', '$CAM_MAC', '192.168.50.10', True, 'enforce')]" ]
	ctl devices >"$TMP/ctl.out" 2>&1
	check "control: devices: a table of the three lab devices" "$(grep -c . "$TMP/ctl.out") lines" \
		eval 'grep -q "^NAME " "$TMP/ctl.out" && grep -q "^cam " "$TMP/ctl.out" &&
		      grep -q "^plug " "$TMP/ctl.out" && grep -q "^laptop " "$TMP/ctl.out"'
	ctl --json flows --device cam --proto DNS >"$TMP/ctl.json"
	f=$(cjson "$TMP/ctl.json" 'sorted(set((x["src_device"], x["dst_ip"], x["verdict"]) for x in r["flows"]))')
	check "control: flows --device cam --proto DNS" "$f" [ "$f" = "[('cam', '$SRV4', 'allow')]" ]

	# quarantine and release, with the cam's DNS as the witness, and the
	# alerts followed as they come
	ctl alerts -n 0 -f >"$TMP/ctl.follow" 2>&1 &
	fpid=$!
	sleep 0.3
	ctl quarantine cam --for 1h >"$TMP/ctl.out" 2>&1
	rc=$?
	r=$(dns1 cam @$SRV4 cam.vendor-cloud.test A)
	ctl --json devices cam >"$TMP/ctl.json"
	q=$(cjson "$TMP/ctl.json" 'r["devices"][0]["quarantined"]')
	check "control: quarantine cam --for 1h cuts it off" "rc=$rc, dig: $r, listed quarantined: $q" \
		eval '[ $rc = 0 ] && [ "$r" != "$SRV4" ] && [ "$q" = True ]'
	ctl release cam >/dev/null 2>&1
	rc=$?
	r=$(dns cam @$SRV4 cam.vendor-cloud.test A)
	check "control: release cam lets it through again" "rc=$rc, dig: $r" \
		eval '[ $rc = 0 ] && [ "$r" = "$SRV4" ]'
	ctl release cam >"$TMP/ctl.out" 2>&1
	rc=$?
	check "control: release of a device not quarantined is refused" "rc=$rc: $(cat "$TMP/ctl.out")" \
		eval '[ $rc = 1 ] && grep -q "is not quarantined" "$TMP/ctl.out"'
	wait_until 3 grep -q quarantine_released "$TMP/ctl.follow"
	kill "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
	check "control: alerts -f showed the quarantine as it happened" "$(grep -c . "$TMP/ctl.follow") lines" \
		eval 'grep -q "quarantine_applied .*cam" "$TMP/ctl.follow" &&
		      grep -q "quarantine_released .*cam" "$TMP/ctl.follow"'

	# reload: a broken file is refused with its messages, then fixed
	printf 'devices:\n  cam:\n    mac: 02:00:00:00:50:10\n    profile: nosuch\n' >"$RUN/ctl.yaml"
	ctl reload >"$TMP/ctl.out" 2>&1
	rc=$?
	check "control: reload of a broken policy is refused, with the checker's message" \
		"rc=$rc: $(oneline "$TMP/ctl.out")" \
		eval '[ $rc = 1 ] && grep -q "ctl.yaml:4:[0-9]*: error: unknown profile" "$TMP/ctl.out"'
	cp "$LABPOL" "$RUN/ctl.yaml"
	ctl reload >"$TMP/ctl.out" 2>&1
	rc=$?
	check "control: reload of the unchanged file" "rc=$rc: $(oneline "$TMP/ctl.out")" \
		eval '[ $rc = 0 ] && grep -q "^unchanged: generation" "$TMP/ctl.out"'

	ctl metrics >"$TMP/ctl.out" 2>&1
	rc=$?
	badl=$(grep -vcE '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? [0-9]+(\.[0-9]+)?)$' "$TMP/ctl.out")
	check "control: metrics in Prometheus text format" \
		"rc=$rc, $(grep -vc '^#' "$TMP/ctl.out") samples, $badl lines not in the format" \
		eval '[ $rc = 0 ] && [ "$badl" = 0 ] &&
		      grep -qE "^iotjail_packets_queued_total\{queue=\"1\"\} [0-9]+$" "$TMP/ctl.out" &&
		      grep -qE "^iotjail_alerts_total\{type=\"quarantine_applied\"\} [1-9]" "$TMP/ctl.out" &&
		      grep -qE "^iotjail_device_flows_total\{device=\"cam\",verdict=\"allowed\"\} [1-9]" "$TMP/ctl.out"'

	# bad clients: garbage, an over-long line, a client that does not
	# read; the daemon answers each and keeps serving
	r=$(python3 - "$CSOCK" <<'PY'
import socket, sys
def talk(data):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(data)
    s.settimeout(3)
    out = b""
    while not out.endswith(b"\n"):
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.decode().strip()
print(talk(b"\x00\xffnot json\n"))
print(talk(b"{" + b"x" * 5000 + b"\n"))
print(talk(b'{"cmd":"quarantine"}\n'))
print(talk(b'{"cmd":"status"}\n')[:10])
PY
)
	check "control: garbage, an over-long and an incomplete request get errors; status still works" \
		"$(echo "$r" | tr '\n' '|' | cut -c1-220)" \
		eval 'echo "$r" | sed -n 1p | grep -q "\"ok\":false,\"error\":\"bad JSON" &&
		      echo "$r" | sed -n 2p | grep -q "request longer than 4096 bytes" &&
		      echo "$r" | sed -n 3p | grep -q "needs .device" &&
		      echo "$r" | sed -n 4p | grep -q "\"ok\":true"'

	setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$CSOCK" status >"$TMP/ctl.out" 2>&1
	rc=$?
	check "control: an unprivileged user is turned away (exit 3)" "rc=$rc: $(oneline "$TMP/ctl.out")" \
		eval '[ $rc = 3 ] && grep -q "permission denied" "$TMP/ctl.out"'

	stop_check control
	check "control: the socket is removed at exit" "" [ ! -e "$CSOCK" ]
	"$CTL" -s "$CSOCK" status >"$TMP/ctl.out" 2>&1
	rc=$?
	check "control: iotjailctl without a daemon says so (exit 3)" "rc=$rc: $(oneline "$TMP/ctl.out")" \
		eval '[ $rc = 3 ] && grep -q "iotjaild is not running" "$TMP/ctl.out"'
else
	bad "control: iotjaild ready" "$(oneline "$DERR")"
fi

# ==================================== 12. learn -> export -> enforce ====
# The lifecycle users follow: the lab's devices in learn mode at run time,
# their normal traffic, the policy exported by iotjailctl, checked, then
# enforced: the same traffic passes with no violation, and the one new
# thing the camera does is the one violation.
VIOL_RE='"event_type":"(service_not_allowed_out|service_not_allowed_in|binding_violation|unknown_device)"'
normal_traffic() {
	local r1 r2 r3 r4
	r1=$(dns cam @$SRV4 cam.vendor-cloud.test A)
	tls cam $SRV4:443 && r2=tls || r2="tls: $(tls_detail)"
	r3=$(dns plug @$SRV4 mqtt.plugcloud.test A)
	timeout 5 ip netns exec "$P-plug" mosquitto_pub -h $MQTT4 -t plug/power -m 42 && r4=mqtt || r4="mqtt failed"
	TRAFFIC="cam dig: $r1, cam $r2, plug dig: $r3, plug $r4"
	[ "$r1" = "$SRV4" ] && [ "$r2" = tls ] && [ "$r3" = "$MQTT4" ] && [ "$r4" = mqtt ]
}
if dstart learn "$P-br" "$RUN/iotjaild.pid" -c "$LABPOL" --bridge br0 -q; then
	ctl learn start >"$TMP/ctl.out" 2>&1
	rc=$?
	check "learn: learn start puts every device in learn mode" "rc=$rc: $(oneline "$TMP/ctl.out")" \
		eval '[ $rc = 0 ] && grep -q "^learning: all devices" "$TMP/ctl.out"'
	normal_traffic
	check "learn: the devices' normal traffic" "$TRAFFIC" [ $? = 0 ]
	ctl export >"$RUN/learned.yaml" 2>"$TMP/ctl.err"
	rc=$?
	"$D" -t -c "$RUN/learned.yaml" >"$TMP/ctl.out" 2>&1
	trc=$?
	check "learn: export writes a policy iotjaild -t accepts" \
		"export rc=$rc ($(grep -c . "$RUN/learned.yaml") lines), -t rc=$trc: $(oneline "$TMP/ctl.out")" \
		eval '[ $rc = 0 ] && [ $trc = 0 ] && grep -q "^  cam:" "$RUN/learned.yaml" &&
		      grep -q "^  plug:" "$RUN/learned.yaml"'
	stop_check learn
	if dstart enforce "$P-br" "$RUN/iotjaild.pid" -c "$RUN/learned.yaml" --bridge br0 -q \
		--alerts "$RUN/learned-alerts.jsonl"; then
		normal_traffic
		ok=$?
		n=$(grep -cE "$VIOL_RE" "$RUN/learned-alerts.jsonl" 2>/dev/null)
		check "enforce: the learnt traffic passes with no violation" \
			"$TRAFFIC; violations: ${n:-0} $(grep -E "$VIOL_RE" "$RUN/learned-alerts.jsonl" 2>/dev/null | head -n 2 | cut -c1-200)" \
			eval '[ $ok = 0 ] && [ "${n:-0}" = 0 ]'
		r=$(get cam 3 -4 http://www.example.test/)
		wait_until 3 grep -qE "$VIOL_RE" "$RUN/learned-alerts.jsonl"
		n=$(grep -cE "$VIOL_RE" "$RUN/learned-alerts.jsonl")
		v=$(grep -E "$VIOL_RE" "$RUN/learned-alerts.jsonl" | cut -c30-150 | paste -sd ' ')
		check "enforce: the camera's new web browsing is blocked, the one violation" \
			"curl: $r; violations: $n ($v)" \
			eval '[ "$r" != "$OKBODY" ] && [ "$n" = 1 ] &&
			      grep -E "$VIOL_RE" "$RUN/learned-alerts.jsonl" | grep -q "\"event_type\":\"service_not_allowed_out\",\"severity\":\"[a-z]*\",\"device\":{\"name\":\"cam\""'
		stop_check enforce
	else
		bad "enforce: iotjaild ready with the learnt policy" "$(oneline "$DERR")"
	fi
else
	bad "learn: iotjaild ready" "$(oneline "$DERR")"
fi
