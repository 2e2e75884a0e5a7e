#!/bin/sh
# Corpus agreement: every capture of ../shared/pcap/ndpi through iotjaild
# --replay and through Debian's ndpiReader; compare app_proto per flow.
# Skips (exit 0, with a message) when the shared captures or ndpiReader are
# absent, so the project's own tests pass on a user's machine.
set -u
B=${B:-build}
CORPUS=${CORPUS:-../shared/pcap/ndpi}
MIN_RATIO=${MIN_RATIO:-0.98}
INSPECT=${INSPECT:-8}
if [ ! -d "$CORPUS" ]; then
	echo "corpus: SKIP: $CORPUS not found (the nDPI capture corpus lives beside the repository)"
	exit 0
fi
if ! command -v ndpiReader >/dev/null 2>&1; then
	echo "corpus: SKIP: ndpiReader not installed (apt-get install libndpi-bin)"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/iotjail-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
crashes=0
# One capture at a time per core; each job writes its own files.
ls "$CORPUS" | grep -E '\.(pcap|pcapng|cap)$' > "$work/list"
export B CORPUS work INSPECT
xargs -P "$(nproc)" -I{} sh -c '
	f="$CORPUS/{}"; n=$(printf %s "{}" | tr "/" "_")
	ndpiReader -q -i "$f" -C "$work/$n.ref.csv" >/dev/null 2>&1 || :
	# Bounded in time and output size, so a runaway bug fails the test
	# instead of filling the disk.
	( ulimit -f 1000000; timeout 300 "$B/iotjaild" --replay "$f" -q --inspect "$INSPECT" --flows "$work/$n.ours.json" 2>"$work/$n.err" )
	rc=$?
	# Exit 1 is a damaged capture (reported); anything else is a crash
	# or a hang (124).
	if [ $rc -gt 1 ]; then echo "corpus: iotjaild exited $rc on {}" >&2; echo "{}" >> "$work/crashed"; fi
' < "$work/list"
if [ -s "$work/crashed" ]; then
	echo "corpus: iotjaild crashed on $(wc -l < "$work/crashed") captures:"
	cat "$work/crashed"
	echo "corpus agreement: 0 passed, 1 failed"
	exit 1
fi
python3 tests/corpus/compare.py "$work" "$MIN_RATIO"
