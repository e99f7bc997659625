# Shared by the paired comparisons (benchmarks/ab.sh, benchmarks/e2e_ab.sh; sourced): their
# arguments, BASE NEW [PAIRS].

# paired_args DEFAULT_PAIRS "$@": sets BASE, NEW and PAIRS (DEFAULT_PAIRS when not given). Too
# few or too many arguments: the calling script's header comment as its usage, exit 2; a side
# that is not an executable, or PAIRS not a positive number: exit 2, saying which.
paired_args() {
  local default=$1 name bin
  shift
  name=$(basename "$0")
  if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
  fi
  BASE=$1
  NEW=$2
  PAIRS=${3:-$default}
  for bin in "$BASE" "$NEW"; do
    if [ ! -x "$bin" ]; then
      echo "$name: $bin is not an executable" >&2
      exit 2
    fi
  done
  if ! [[ "$PAIRS" =~ ^[1-9][0-9]*$ ]]; then
    echo "$name: PAIRS must be a positive number, not '$PAIRS'" >&2
    exit 2
  fi
}
