# Shared helpers for the benchmarks: timing and percentiles.

now_ns() { date +%s%N; }

# percentile P FILE: the P-th percentile (nearest rank) of the numbers in FILE, one per line.
percentile() {
  sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}

# ms NS: nanoseconds as milliseconds with two decimals.
ms() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e6 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.2f", a / b }'; }
