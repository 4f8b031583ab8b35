#!/usr/bin/env bash
# The merge job of a sharded cimsim sweep (submit-sweep.sh submits it after the array).
#
#   sbatch tools/slurm/sweep-merge.sh ROOT N
#
# Runs `cimsim sweep-merge ROOT/shard-1 ... ROOT/shard-N --out ROOT/merged`. A shard that never
# started has no directory and is left out of the list; sweep-merge then names the points that have
# no record, exits 2 and writes nothing, so an incomplete sweep never looks complete.
# CIMSIM: the cimsim binary (default: cimsim on PATH).
#SBATCH --job-name=cimsim-sweep-merge
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: sbatch sweep-merge.sh ROOT N" >&2
  exit 2
fi
root="$1" n="$2"
dirs=()
for ((i = 1; i <= n; i++)); do
  if [ -d "$root/shard-$i" ]; then dirs+=("$root/shard-$i"); else echo "sweep-merge.sh: $root/shard-$i missing" >&2; fi
done
if ((${#dirs[@]} == 0)); then
  echo "sweep-merge.sh: no shard directory in $root" >&2
  exit 2
fi
exec "${CIMSIM:-cimsim}" sweep-merge "${dirs[@]}" --out "$root/merged"
