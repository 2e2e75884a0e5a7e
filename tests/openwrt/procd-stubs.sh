# Stand-ins for what /etc/rc.common gives an OpenWrt init script: the UCI
# helpers of /lib/functions.sh and the procd helpers of
# /lib/functions/procd.sh.  The UCI ones behave like the real ones (on a
# config file read as shell, as `uci export` prints it); the procd ones only
# record their calls, one line each in $PROCD_LOG, arguments quoted as a
# shell would need them.

# --- recording ---------------------------------------------------------------
stub_quote() {
	for a; do
		case "$a" in
		'' | *[!A-Za-z0-9_./:=+,@%-]*)
			printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")" ;;
		*) printf ' %s' "$a" ;;
		esac
	done
}
stub_record() {
	{ printf '%s' "$1"; shift; stub_quote "$@"; echo; } >>"$PROCD_LOG"
}

# --- /lib/functions.sh -------------------------------------------------------
config() { CONFIG_SECTION=$2; }
option() { eval "CONFIG_${CONFIG_SECTION}_$1=\$2"; }
list() {
	case " ${CONFIG_LIST_STATE:-} " in
	*" ${CONFIG_SECTION}_$1 "*) ;;
	*) CONFIG_LIST_STATE="${CONFIG_LIST_STATE:-} ${CONFIG_SECTION}_$1" ;;
	esac
	eval "CONFIG_${CONFIG_SECTION}_$1=\"\${CONFIG_${CONFIG_SECTION}_$1:+\$CONFIG_${CONFIG_SECTION}_$1 }\$2\""
}
# Like uci_load, it empties the lists a previous load filled.
config_load() {
	local v

	stub_record config_load "$@"
	for v in ${CONFIG_LIST_STATE:-}; do
		eval "CONFIG_$v="
	done
	CONFIG_LIST_STATE=
	. "$UCI_CONFIG_DIR/$1"
}
config_get() { # var section option [default]
	eval "$1=\${CONFIG_$2_$3:-\${4:-}}"
}
config_get_bool() { # var section option [default]
	local _tmp
	config_get _tmp "$2" "$3" "$4"
	case "$_tmp" in
	1 | on | true | yes | enabled) _tmp=1 ;;
	0 | off | false | no | disabled) _tmp=0 ;;
	*) _tmp=${4:-} ;;
	esac
	eval "$1=\$_tmp"
}

# --- /lib/functions/procd.sh and /etc/rc.common --------------------------------
procd_open_instance() { stub_record procd_open_instance "$@"; }
procd_set_param() { stub_record procd_set_param "$@"; }
procd_append_param() { stub_record procd_append_param "$@"; }
procd_close_instance() { stub_record procd_close_instance "$@"; }
procd_add_reload_trigger() { stub_record procd_add_reload_trigger "$@"; }
procd_send_signal() { stub_record procd_send_signal "$@"; }
rc_procd() {
	stub_record rc_procd "$@"
	"$@"
}

# busybox logger: the message, or its standard input line by line.
logger() {
	stub_record logger "$@"
	sed 's/^/  | /' >>"$PROCD_LOG"
}
