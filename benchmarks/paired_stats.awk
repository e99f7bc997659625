# Functions for the paired comparisons (benchmarks/ab.sh, benchmarks/e2e_ab.sh), loaded with
# `awk -f benchmarks/paired_stats.awk -f PROGRAM`.

# The median of a[1..n] (sorts a in place).
function median(a, n,   i, j, x) {
  for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

# Two-sided sign test: P(a split at least as uneven as k of n | each pair a fair coin).
function sign_test(k, n,   i, c, tail, low) {
  low = k < n - k ? k : n - k
  c = 1; tail = 0
  for (i = 0; i <= low; i++) { tail += c; c = c * (n - i) / (i + 1) }
  tail = 2 * tail / 2 ^ n
  return tail > 1 ? 1 : tail
}
