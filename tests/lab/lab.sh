#!/bin/sh
# iotjail network lab: a Linux bridge in its own network namespace with three
# "IoT device" namespaces and one server namespace running real services.
#
#   lab.sh up     [PREFIX]          build the lab, start services, wait for them
#   lab.sh down   [PREFIX]          kill services, delete namespaces + state (idempotent)
#   lab.sh run    PREFIX NODE CMD.. run CMD inside PREFIX-NODE (NODE: br cam plug laptop srv)
#   lab.sh status [PREFIX]          show namespaces, addresses and service PIDs
#
# PREFIX defaults to "ijlab". Everything the lab creates is named after it:
# namespaces PREFIX-{br,cam,plug,laptop,srv}, state dir /run/PREFIX,
# resolv.conf overrides /etc/netns/PREFIX-{cam,plug,laptop}/. Interfaces are
# created directly inside the namespaces (never in the caller's namespace), so
# their short fixed names (br0, p-cam, eth0, ...) cannot collide between labs.
#
# Traffic only ever flows between these namespaces; no namespace has a link
# to the outside. POSIX sh (dash) compatible.

set -u

NODES="br cam plug laptop srv"
DEVICES="cam plug laptop"
SERVICES="dnsmasq http mosquitto tls iperf3"

# Addresses (see README.md).
NET4=192.168.50
NET6=fd50:
SRV4=$NET4.1      SRV6=${NET6}:1
MQTT4=$NET4.2     MQTT6=${NET6}:2
WWW4=$NET4.3      WWW6=${NET6}:3
BR4=$NET4.254     BR6=${NET6}:fe

die() { echo "lab: error: $*" >&2; exit 1; }
log() { [ -n "${LAB_QUIET:-}" ] || echo "lab: $*" >&2; }

set_prefix() {
	P=${1:-ijlab}
	case $P in
	*[!A-Za-z0-9]*|'') die "PREFIX must be 1-10 chars of [A-Za-z0-9] (got '$P')" ;;
	esac
	[ ${#P} -le 10 ] || die "PREFIX '$P' longer than 10 chars"
	RUN=/run/$P
}

ns() { echo "$P-$1"; }
nsx() { _n=$1; shift; ip netns exec "$P-$_n" "$@"; }
ns_exists() { [ -e "/run/netns/$P-$1" ]; }

dev_ip4() { case $1 in cam) echo $NET4.10 ;; plug) echo $NET4.11 ;; laptop) echo $NET4.50 ;; esac; }
dev_ip6() { case $1 in cam) echo ${NET6}:10 ;; plug) echo ${NET6}:11 ;; laptop) echo ${NET6}:50 ;; esac; }
dev_mac() { case $1 in cam) echo 02:00:00:00:50:10 ;; plug) echo 02:00:00:00:50:11 ;; laptop) echo 02:00:00:00:50:50 ;; esac; }

# ---------------------------------------------------------------- down ----

# Kill one PID (TERM, then KILL) only if it still lives in namespace $2.
kill_in_ns() {
	_pid=$1 _ns=$2
	[ -d "/proc/$_pid" ] || return 0
	[ "$(ip netns identify "$_pid" 2>/dev/null)" = "$_ns" ] || return 0
	kill -TERM "$_pid" 2>/dev/null
}

# Send signal $1 to every process inside the lab's namespaces.
signal_lab() {
	for n in $NODES; do
		ns_exists "$n" || continue
		for pid in $(ip netns pids "$P-$n" 2>/dev/null); do
			kill -"$1" "$pid" 2>/dev/null
		done
	done
}

cmd_down() {
	# 1. service PIDs recorded at up time (only if they are still in our ns)
	if [ -d "$RUN/pids" ]; then
		for f in "$RUN"/pids/*.pid; do
			[ -f "$f" ] || continue
			kill_in_ns "$(cat "$f")" "$P-srv"
		done
	fi
	# 2. anything else still running inside our namespaces
	signal_lab TERM
	i=0
	while [ $i -lt 30 ]; do
		left=""
		for n in $NODES; do
			ns_exists "$n" || continue
			left="$left$(ip netns pids "$P-$n" 2>/dev/null)"
		done
		[ -z "$left" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	signal_lab KILL
	# Killed services are reparented to PID 1; give it a moment to reap them so
	# that a finished `down` leaves nothing (not even zombies) in ps. Bounded.
	if [ -d "$RUN/pids" ]; then
		i=0
		while [ $i -lt 50 ]; do
			left=""
			for f in "$RUN"/pids/*.pid; do
				[ -f "$f" ] && [ -d "/proc/$(cat "$f")" ] && left=1
			done
			[ -z "$left" ] && break
			sleep 0.1
			i=$((i + 1))
		done
	fi
	# 3. namespaces (deleting a namespace destroys its veths and the bridge)
	for n in $NODES; do
		if ns_exists "$n"; then
			ip netns del "$P-$n" 2>/dev/null || log "warning: could not delete netns $P-$n"
		fi
		rm -rf "/etc/netns/$P-$n"
	done
	rmdir /etc/netns 2>/dev/null
	rm -rf "$RUN"
	return 0
}

# ------------------------------------------------------------------ up ----

up_fail() {
	echo "lab: up failed: $*" >&2
	LAB_QUIET=1 cmd_down
	exit 1
}

# retry N CMD...: run CMD until it succeeds, up to N times, 0.2 s apart
retry() {
	_n=$1; shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		_n=$((_n - 1))
		sleep 0.2
	done
	return 1
}

# start NAME CMD...: start a service in the srv namespace, record its PID
start_svc() {
	_name=$1; shift
	ip netns exec "$P-srv" "$@" >"$RUN/log/$_name.log" 2>&1 </dev/null &
	echo $! >"$RUN/pids/$_name.pid"
}

svc_alive() {
	_pid=$(cat "$RUN/pids/$1.pid" 2>/dev/null) || return 1
	[ -d "/proc/$_pid" ]
}

# wait_svc NAME CHECK...: wait until CHECK succeeds in srv ns (bounded)
wait_svc() {
	_name=$1; shift
	_i=0
	while [ $_i -lt 50 ]; do	# 50 x 0.2 s = 10 s
		svc_alive "$_name" || up_fail "service '$_name' exited at startup; log: $(tail -n 5 "$RUN/log/$_name.log" 2>/dev/null | tr '\n' ' ')"
		nsx srv "$@" >/dev/null 2>&1 && { log "service $_name ready"; return 0; }
		_i=$((_i + 1))
		sleep 0.2
	done
	up_fail "service '$_name' did not answer within 10 s; log: $(tail -n 5 "$RUN/log/$_name.log" 2>/dev/null | tr '\n' ' ')"
}

# tcp_listening PORT: is something listening on PORT (runs inside a netns)
tcp_listening() { echo "ss -Hltn 'sport = :$1' | grep -q ."; }

cmd_up() {
	[ "$(id -u)" -eq 0 ] || die "must run as root"
	for t in ip ss dnsmasq mosquitto mosquitto_pub openssl iperf3 python3 dig curl sysctl; do
		command -v $t >/dev/null 2>&1 || die "missing tool: $t (see tests/lab/README.md for packages)"
	done
	for n in $NODES; do
		ns_exists "$n" && die "lab '$P' already exists (namespace $P-$n); run: $0 down $P"
	done
	[ -e "$RUN" ] && die "$RUN exists; run: $0 down $P"

	trap 'up_fail "interrupted"' INT TERM HUP
	mkdir -p "$RUN/pids" "$RUN/log" "$RUN/www" "$RUN/tls" || up_fail "cannot create $RUN"

	# br_netfilter may be a module or built in; the sysctl check below decides.
	modprobe br_netfilter 2>/dev/null

	for n in $NODES; do
		ip netns add "$P-$n" || up_fail "ip netns add $P-$n"
		nsx "$n" ip link set lo up
	done

	# --- bridge namespace
	nsx br ip link add br0 address 02:00:00:00:50:fe type bridge stp_state 0 forward_delay 0 \
		|| up_fail "creating br0"
	nsx br sysctl -qw net.ipv6.conf.br0.accept_dad=0
	for n in $DEVICES up; do
		if [ $n = up ]; then peer=srv; mac=02:00:00:00:50:01; else peer=$n; mac=$(dev_mac $n); fi
		ip -n "$P-br" link add "p-$n" type veth peer name eth0 netns "$P-$peer" address "$mac" \
			|| up_fail "creating veth p-$n <-> $P-$peer/eth0"
		# bridge ports carry no IP of their own: keep them quiet (no RS/MLD/DAD)
		nsx br sysctl -qw "net.ipv6.conf.p-$n.disable_ipv6=1"
		nsx br ip link set "p-$n" master br0 || up_fail "enslaving p-$n"
		nsx br ip link set "p-$n" up
	done
	nsx br ip link set br0 up
	nsx br ip addr add $BR4/24 dev br0
	nsx br ip addr add $BR6/64 dev br0 nodad
	if ! nsx br sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1; then
		up_fail "br_netfilter not available (no net.bridge.bridge-nf-call-* sysctls in $P-br)"
	fi
	nsx br sysctl -qw net.netfilter.nf_conntrack_acct=1 || up_fail "cannot set nf_conntrack_acct in $P-br"

	# --- device namespaces
	for n in $DEVICES; do
		nsx $n sysctl -qw net.ipv6.conf.eth0.accept_dad=0
		nsx $n ip addr add "$(dev_ip4 $n)/24" dev eth0
		nsx $n ip addr add "$(dev_ip6 $n)/64" dev eth0 nodad
		nsx $n ip link set eth0 up
		# default route to the lab server: stray traffic stays inside the lab
		nsx $n ip route add default via $SRV4
		nsx $n ip -6 route add default via $SRV6
		mkdir -p "/etc/netns/$P-$n"
		printf 'nameserver %s\nnameserver %s\n' $SRV4 $SRV6 >"/etc/netns/$P-$n/resolv.conf"
	done

	# --- server namespace (no forwarding: it is an endpoint, not a router)
	nsx srv sysctl -qw net.ipv6.conf.eth0.accept_dad=0 net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
	for a in $SRV4 $MQTT4 $WWW4; do nsx srv ip addr add $a/24 dev eth0; done
	for a in $SRV6 $MQTT6 $WWW6; do nsx srv ip addr add $a/64 dev eth0 nodad; done
	nsx srv ip link set eth0 up

	# --- services
	# DNS: dnsmasq, authoritative local data only, lab addresses only, no DHCP.
	# It answers on the MQTT addresses too: a resolver the devices' policy
	# does not allow (a camera that ignores its configured DNS server).
	start_svc dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll \
		--bind-interfaces --listen-address=$SRV4,$SRV6,$MQTT4,$MQTT6 --except-interface=lo \
		--user=nobody --group=nogroup --pid-file= --log-queries --log-facility=- \
		--local=/test/ \
		--host-record=cam.vendor-cloud.test,$SRV4,$SRV6 \
		--host-record=mqtt.plugcloud.test,$MQTT4,$MQTT6 \
		--host-record=www.example.test,$WWW4,$WWW6 \
		--host-record=lab.test,$SRV4,$SRV6 \
		--txt-record=lab.test,"iotjail lab $P"
	wait_svc dnsmasq dig +time=1 +tries=1 +short @$SRV4 lab.test

	# HTTP: python http.server on port 80, dual stack, all lab addresses
	printf 'iotjail lab %s OK\n' "$P" >"$RUN/www/index.html"
	start_svc http python3 -m http.server 80 --bind :: --directory "$RUN/www"
	wait_svc http curl -fsS --max-time 1 -o /dev/null http://$SRV4/

	# MQTT: mosquitto 1883, anonymous allowed (lab only)
	cat >"$RUN/mosquitto.conf" <<-EOF
	# iotjail lab broker ($P)
	per_listener_settings false
	allow_anonymous true
	persistence false
	log_dest stderr
	log_type error
	log_type warning
	log_type notice
	log_type information
	listener 1883 $SRV4
	listener 1883 $MQTT4
	listener 1883 $SRV6
	listener 1883 $MQTT6
	EOF
	start_svc mosquitto mosquitto -c "$RUN/mosquitto.conf"
	wait_svc mosquitto mosquitto_pub -h $MQTT4 -p 1883 -t lab/ready -m up

	# TLS: openssl s_server with a fresh self-signed cert, port 443
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$RUN/tls/key.pem" -out "$RUN/tls/cert.pem" -days 2 \
		-subj "/CN=cam.vendor-cloud.test" \
		-addext "subjectAltName=DNS:cam.vendor-cloud.test,DNS:www.example.test,DNS:mqtt.plugcloud.test" \
		>"$RUN/log/tls-gen.log" 2>&1 || up_fail "generating TLS certificate: $(cat "$RUN/log/tls-gen.log")"
	start_svc tls openssl s_server -accept 443 -cert "$RUN/tls/cert.pem" \
		-key "$RUN/tls/key.pem" -www -quiet
	wait_svc tls sh -c "$(tcp_listening 443) && openssl s_client -connect $SRV4:443 -servername cam.vendor-cloud.test </dev/null"

	# throughput: iperf3 server 5201
	start_svc iperf3 iperf3 -s -p 5201
	wait_svc iperf3 sh -c "$(tcp_listening 5201)"

	trap - INT TERM HUP
	log "lab '$P' is up (state in $RUN)"
	return 0
}

# -------------------------------------------------------------- status ----

cmd_status() {
	any=0
	for n in $NODES; do
		ns_exists "$n" || continue
		any=1
		echo "== $P-$n"
		nsx "$n" ip -br addr show | grep -v '^lo '
	done
	if [ $any = 0 ]; then
		echo "lab '$P': down"
		return 1
	fi
	echo "== services ($RUN)"
	for s in $SERVICES; do
		if svc_alive "$s"; then
			echo "$s: running (pid $(cat "$RUN/pids/$s.pid"))"
		else
			echo "$s: NOT running"
		fi
	done
	return 0
}

# ---------------------------------------------------------------- main ----

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
up)	set_prefix "${1:-}"; cmd_up ;;
down)	set_prefix "${1:-}"; cmd_down ;;
status)	set_prefix "${1:-}"; cmd_status ;;
run)
	[ $# -ge 3 ] || die "usage: $0 run PREFIX NODE CMD..."
	set_prefix "$1"; node=$2; shift 2
	case " $NODES " in *" $node "*) ;; *) die "unknown node '$node' (one of: $NODES)" ;; esac
	ns_exists "$node" || die "namespace $P-$node does not exist (lab '$P' not up?)"
	exec ip netns exec "$P-$node" "$@"
	;;
*)
	echo "usage: $0 up [PREFIX] | down [PREFIX] | status [PREFIX] | run PREFIX NODE CMD..." >&2
	exit 2
	;;
esac
