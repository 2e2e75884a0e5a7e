#!/bin/sh
# Runs one function of an OpenWrt init script against procd-stubs.sh:
#   sh run-init.sh INIT_SCRIPT FUNCTION
# with UCI_CONFIG_DIR (where config_load reads), PROCD_LOG (where the calls
# go) and IOTJAILD (the program to run in place of /usr/sbin/iotjaild) in the
# environment.  The function's status ends the log.  No `set -u`: rc.common
# does not run init scripts so.
. "$(dirname "$0")/procd-stubs.sh"
. "$1"
if [ "$PROG" != /usr/sbin/iotjaild ]; then
	echo "run-init: PROG is '$PROG', not /usr/sbin/iotjaild" >&2
	exit 2
fi
PROG=$IOTJAILD
"$2"
echo "status $?" >>"$PROCD_LOG"
