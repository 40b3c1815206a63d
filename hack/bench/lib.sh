# Shared helpers for the benchmarks: timing and percentiles.

now_ns() { date +%s%N; }

# percentile P FILE: the P-th percentile (nearest rank) of the numbers in FILE, one per line.
percentile() {
  sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}

# ms NS: nanoseconds as milliseconds with two decimals.
ms() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e6 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.2f", a / b }'; }

# wait_line FILE PATTERN COUNT [TIMEOUT]: until FILE holds COUNT lines containing PATTERN (inotify via tail -f).
wait_line() {
  local n=0 line tailpid
  [ "$3" -gt 0 ] || return 0
  exec 3< <(exec timeout "${4:-60}" tail -n +1 -f "$1")
  tailpid=$!
  while [ "$n" -lt "$3" ] && IFS= read -r line <&3; do
    case $line in *"$2"*) n=$((n + 1)) ;; esac
  done
  kill "$tailpid" 2>/dev/null || true
  exec 3<&-
  [ "$n" -ge "$3" ]
}

# The helpers below run an agent whose log is $work/agent.log and watch containers print READY; they need $work.

# wait_log PATTERN COUNT [TIMEOUT]: until the agent's log holds COUNT lines containing PATTERN.
wait_log() { wait_line "$work/agent.log" "$@"; }

# watch_ready DIR COUNT REGEX [TIMEOUT]: starts hack/bench/readywatch.py on DIR for COUNT files whose path matches
# REGEX and returns once its watches are set (it says so on a fifo, no polling); results go to $work/watch.out,
# its pid is $watcher. Start it BEFORE whatever makes the containers, then `wait "$watcher"`.
watch_ready() {
  rm -f "$work/watch.fifo"; mkfifo "$work/watch.fifo"
  python3 hack/bench/readywatch.py "$1" "$2" "${4:-60}" "$3" > "$work/watch.out" 2> "$work/watch.fifo" &
  watcher=$!
  local first=
  exec 4< "$work/watch.fifo"
  IFS= read -r first <&4 || true
  if [ "$first" != watching ]; then echo "readywatch: ${first:-exited}" >&2; exec 4<&-; return 1; fi
  cat <&4 >&2 &    # anything later (a timeout) goes to stderr
  exec 4<&-
}

# pod_manifest NAME: a static pod that prints READY and then sleeps.
pod_manifest() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: localhost/busybox:latest
    imagePullPolicy: Never
    command: ["sh", "-c", "echo READY; exec sleep 100000"]
YAML
}
