#!/usr/bin/env bash
# End-to-end benchmark: generates the benchmark captures (deterministic, into bench-data/),
# builds --release, times `wsnoop read FILE --json > /dev/null` (median of N runs), measures
# peak memory, verifies the output once against the generator's summary, and, when tshark is
# installed, times tshark on the same files in the same run and prints the ratio.
#
#   scripts/bench.sh                 # 256 MiB mixed, 256 MiB deflate, 64 MiB tiny messages,
#                                    # the mixed traffic in TLS 1.3 and in TLS 1.2 (wss, wss12),
#                                    # the tiny messages in TLS 1.3 (wsstiny)
#   scripts/bench.sh --big           # also the 1 GiB mixed capture
#   scripts/bench.sh --quick         # small captures, one run: a smoke test of the script
#
# Options: --runs N (default 3), --no-tshark, --no-check, --regen (rewrite the captures),
# --only NAME[,NAME] (mixed, deflate, tiny, wss, wss12, wsstiny, big). MB = 10^6 bytes of capture file.
# TLS captures are read with their key log (wsnoop --keylog, tshark -o tls.keylog_file:); with
# mixed (tiny for wsstiny) in the same run, their throughput is also given relative to it.
# wsnoop is timed on one thread and on THREADS (default: the number of cores).
# Environment: WSNOOP (binary to time, default target/release/wsnoop), BENCH_DATA, SHARED_DIR,
# THREADS.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
DATA=${BENCH_DATA:-$ROOT/bench-data}
SHARED=${SHARED_DIR:-$ROOT/../shared}
RUNS=3
THREADS=${THREADS:-$(nproc 2>/dev/null || echo 2)}
BIG=0
QUICK=0
TSHARK=1
CHECK=1
REGEN=0
ONLY=""

while [ $# -gt 0 ]; do
    case "$1" in
        --big) BIG=1 ;;
        --quick) QUICK=1; RUNS=1 ;;
        --runs) RUNS=$2; shift ;;
        --no-tshark) TSHARK=0 ;;
        --no-check) CHECK=0 ;;
        --regen) REGEN=1 ;;
        --only) ONLY=$2; shift ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# name | file | generator arguments
CAPTURES=(
    "mixed|ws256.pcap|--size-mb 256 --conns 32 --seed 1"
    "deflate|ws256d.pcap|--size-mb 256 --conns 32 --seed 1 --deflate"
    "tiny|ws64t.pcap|--size-mb 64 --conns 32 --seed 1 --mix tiny"
    "wss|wss256.pcap|--size-mb 256 --conns 32 --seed 1 --tls13"
    "wss12|wss256c.pcap|--size-mb 256 --conns 32 --seed 1 --tls12-chacha"
    "wsstiny|wss64t.pcap|--size-mb 64 --conns 32 --seed 1 --mix tiny --tls13"
)
[ "$BIG" = 1 ] && CAPTURES+=("big|ws1g.pcap|--size-mb 1024 --conns 32 --seed 1")
if [ "$QUICK" = 1 ]; then
    CAPTURES=(
        "mixed|q-ws16.pcap|--size-mb 16 --conns 8 --seed 1"
        "deflate|q-ws16d.pcap|--size-mb 16 --conns 8 --seed 1 --deflate"
        "tiny|q-ws8t.pcap|--size-mb 8 --conns 8 --seed 1 --mix tiny"
        "wss|q-wss16.pcap|--size-mb 16 --conns 8 --seed 1 --tls13"
        "wss12|q-wss16c.pcap|--size-mb 16 --conns 8 --seed 1 --tls12-chacha"
        "wsstiny|q-wss8t.pcap|--size-mb 8 --conns 8 --seed 1 --mix tiny --tls13"
    )
fi

log() { echo "bench: $*" >&2; }

log "building (release)"
cargo build --release --quiet --bin wsnoop --example gen_pcap
WSNOOP=${WSNOOP:-$ROOT/target/release/wsnoop}
GEN=$ROOT/target/release/examples/gen_pcap
mkdir -p "$DATA"

if [ "$TSHARK" = 1 ] && ! command -v tshark >/dev/null; then
    log "tshark not installed: no comparison (apt-get install -y tshark)"
    TSHARK=0
fi
if [ "$CHECK" = 1 ] && { ! command -v python3 >/dev/null || [ ! -f "$SHARED/bench/check_jsonl.py" ]; }; then
    log "python3 or $SHARED/bench/check_jsonl.py missing: output not verified"
    CHECK=0
fi

# Peak resident memory: GNU time if present, else a python3 wrapper reading the children's
# rusage, else unknown.
if [ -x /usr/bin/time ]; then
    MEM_TOOL=time
elif command -v python3 >/dev/null; then
    MEM_TOOL=python
else
    MEM_TOOL=none
    log "neither /usr/bin/time nor python3: peak memory not measured (apt-get install -y time)"
fi

now_ns() { date +%s%N; }

# run_measured OUTFILE CMD... : runs CMD with stdout to OUTFILE; prints "seconds peak_kib status".
run_measured() {
    local out=$1; shift
    local t0 t1 status=0 kib="" tmp
    tmp=$(mktemp)
    t0=$(now_ns)
    case $MEM_TOOL in
        time) /usr/bin/time -f "%M" -o "$tmp" "$@" >"$out" 2>/dev/null || status=$? ;;
        python) python3 -c 'import resource,subprocess,sys
r=subprocess.call(sys.argv[3:],stdout=open(sys.argv[2],"wb"),stderr=subprocess.DEVNULL)
open(sys.argv[1],"w").write("%d\n"%resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r)' "$tmp" "$out" "$@" || status=$? ;;
        none) "$@" >"$out" 2>/dev/null || status=$? ;;
    esac
    t1=$(now_ns)
    kib=$(tail -n 1 "$tmp" 2>/dev/null | tr -dc '0-9')
    rm -f "$tmp"
    echo "$(( (t1 - t0) / 1000 )) ${kib:-0} $status"
}

# median_of "us kib status" lines: median time, max peak, first failing status (or 0).
summarize() {
    sort -n | awk '{ t[NR]=$1; if ($2>m) m=$2; if ($3!=0 && s==0) s=$3 }
        END { printf "%d %d %d\n", t[int((NR+1)/2)], m, s }'
}

json_field() { # FILE KEY: a top-level integer of a summary
    sed -n "s/^ \"$2\": \([0-9]*\),\{0,1\}$/\1/p" "$1" | head -n 1
}

TSHARK_ARGS=(-Y websocket -T fields -E occurrence=a -e tcp.stream -e websocket.opcode
    -e websocket.payload.text -e data.data -e websocket.payload.ping
    -e websocket.payload.pong -e websocket.payload.close.status_code)

ROWS=()
declare -A ONE_MBS=() N_MBS=()
for entry in "${CAPTURES[@]}"; do
    IFS='|' read -r name file gen_args <<<"$entry"
    if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
    pcap=$DATA/$file
    summary=$pcap.summary.json
    # TLS captures come with the generator's key log, FILE.keys.
    keys=""; ws_keys=(); ts_keys=()
    case " $gen_args " in
        *" --tls13 "* | *" --tls12-chacha "*)
            keys=$pcap.keys
            ws_keys=(--keylog "$keys")
            ts_keys=(-o "tls.keylog_file:$keys") ;;
    esac
    # Regenerate when the generator's source or arguments changed (not on every relink).
    stamp=$( { cat "$ROOT"/examples/gen_pcap/*.rs "$ROOT"/examples/gen_pcap/wsgen/*.rs; echo "$gen_args"; } \
        | cksum | cut -d' ' -f1)
    if [ "$REGEN" = 1 ] || [ ! -f "$pcap" ] || [ ! -f "$summary" ] \
        || { [ -n "$keys" ] && [ ! -f "$keys" ]; } \
        || [ "$(cat "$pcap.stamp" 2>/dev/null)" != "$stamp" ]; then
        log "generating $file ($gen_args)"
        rm -f "$pcap.stamp"
        # shellcheck disable=SC2086
        "$GEN" $gen_args --out "$pcap"
        echo "$stamp" >"$pcap.stamp"
    fi
    bytes=$(stat -c %s "$pcap")
    msgs=$(json_field "$summary" messages_total)
    cat "$pcap" >/dev/null # page cache warm for every contender

    # One thread, then one per core (the default).
    one_us=0; one_cell="-"
    log "$name: wsnoop --threads 1 x$RUNS"
    read -r one_us _ one_status < <(
        for _ in $(seq "$RUNS"); do
            run_measured /dev/null "$WSNOOP" read "$pcap" "${ws_keys[@]}" --json --no-progress --threads 1
        done | summarize)
    if [ "$one_status" = 0 ] && [ "$one_us" -gt 0 ]; then
        one_cell=$(awk -v b="$bytes" -v u="$one_us" 'BEGIN { printf "%.0f", b / u }')
        ONE_MBS[$name]=$(awk -v b="$bytes" -v u="$one_us" 'BEGIN { printf "%.3f", b / u }')
    else
        log "$name: wsnoop --threads 1 exited with status $one_status"
        one_us=0
    fi
    ws_cell="fail"; ws_msgs="-"; ws_peak="-"; ws_us=0; scaling="-"
    log "$name: wsnoop --threads $THREADS x$RUNS"
    read -r ws_us ws_kib ws_status < <(
        for _ in $(seq "$RUNS"); do
            run_measured /dev/null "$WSNOOP" read "$pcap" "${ws_keys[@]}" --json --no-progress --threads "$THREADS"
        done | summarize)
    if [ "$ws_status" = 0 ] && [ "$ws_us" -gt 0 ]; then
        ws_cell=$(awk -v b="$bytes" -v u="$ws_us" 'BEGIN { printf "%.0f", b / u }')
        N_MBS[$name]=$(awk -v b="$bytes" -v u="$ws_us" 'BEGIN { printf "%.3f", b / u }')
        ws_msgs=$(awk -v n="$msgs" -v u="$ws_us" 'BEGIN { printf "%.0f", n * 1e6 / u }')
        [ "$ws_kib" -gt 0 ] && ws_peak=$(( ws_kib / 1024 ))
        [ "$one_us" -gt 0 ] && scaling=$(awk -v a="$one_us" -v b="$ws_us" 'BEGIN { printf "%.2fx", a / b }')
    else
        log "$name: wsnoop exited with status $ws_status"
        ws_us=0
    fi

    verdict="-"
    if [ "$CHECK" = 1 ] && [ "$ws_us" -gt 0 ]; then
        log "$name: verifying the output against $(basename "$summary")"
        if "$WSNOOP" read "$pcap" "${ws_keys[@]}" --json --no-progress --threads "$THREADS" 2>/dev/null \
            | python3 "$SHARED/bench/check_jsonl.py" "$summary" - >"$DATA/$file.check.txt"; then
            verdict="PASS"
        else
            verdict="FAIL"
            sed 's/^/    /' "$DATA/$file.check.txt" >&2
        fi
    fi

    ts_cell="-"; ts_peak="-"; ratio="-"
    if [ "$TSHARK" = 1 ]; then
        log "$name: tshark x$RUNS"
        read -r ts_us ts_kib ts_status < <(
            for _ in $(seq "$RUNS"); do
                run_measured /dev/null tshark -n -r "$pcap" "${ts_keys[@]}" "${TSHARK_ARGS[@]}"
            done | summarize)
        if [ "$ts_status" = 0 ] && [ "$ts_us" -gt 0 ]; then
            ts_cell=$(awk -v b="$bytes" -v u="$ts_us" 'BEGIN { printf "%.1f", b / u }')
            [ "$ts_kib" -gt 0 ] && ts_peak=$(( ts_kib / 1024 ))
            [ "$ws_us" -gt 0 ] && ratio=$(awk -v a="$ts_us" -v b="$ws_us" 'BEGIN { printf "%.1fx", a / b }')
        else
            ts_cell="fail"
        fi
    fi
    ROWS+=("$name|$file|$(( (bytes + (1 << 19)) >> 20 ))|$msgs|$one_cell|$ws_cell|$scaling|$ws_msgs|$ws_peak|$verdict|$ts_cell|$ts_peak|$ratio")
done

echo
printf '%-8s %-13s %6s %9s | %9s %9s %7s %11s %9s %6s | %9s %9s | %7s\n' \
    capture file MiB messages "1t MB/s" "${THREADS}t MB/s" scaling "messages/s" "peak MiB" check "tshark" "peak MiB" ratio
for row in "${ROWS[@]}"; do
    IFS='|' read -r a b c d e f g h i j k l m <<<"$row"
    printf '%-8s %-13s %6s %9s | %9s %9s %7s %11s %9s %6s | %9s %9s | %7s\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h" "$i" "$j" "$k" "$l" "$m"
done
echo "(wsnoop read FILE --json > /dev/null, median of $RUNS, on 1 and on $THREADS threads; scaling = 1-thread time / $THREADS-thread time;"
echo " messages/s, peak and check: $THREADS threads; tshark: MB/s of the same file; ratio = tshark time / $THREADS-thread wsnoop time; MB = 10^6 bytes)"
# TLS against cleartext: the same traffic model, timed in this run.
for pair in wss:mixed wss12:mixed wsstiny:tiny; do
    tls=${pair%%:*}; plain=${pair##*:}
    if [ -n "${N_MBS[$tls]:-}" ] && [ -n "${N_MBS[$plain]:-}" ]; then
        printf '%s vs %s (MB/s ratio, same run): %s on 1 thread, %s on %s threads\n' "$tls" "$plain" \
            "$(awk -v a="${ONE_MBS[$tls]:-0}" -v b="${ONE_MBS[$plain]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }')" \
            "$(awk -v a="${N_MBS[$tls]}" -v b="${N_MBS[$plain]}" 'BEGIN { printf "%.2f", a / b }')" "$THREADS"
    fi
done
