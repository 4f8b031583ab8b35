#!/usr/bin/env bash
# Submits a cimsim sweep to Slurm as a job array of N shards and a merge job (docs/sweep.md).
#
#   tools/slurm/submit-sweep.sh [SBATCH_OPTION...] SWEEP.yaml ROOT N [SHARDS]
#
# - The array (sweep-array.sh) has one task per shard I in SHARDS (an sbatch --array list, default
#   1-N): `cimsim sweep SWEEP.yaml --out ROOT/shard-I --shard I/N`.
# - The merge job (sweep-merge.sh) starts when every task of that array has exited 0
#   (--dependency=afterok) and runs `cimsim sweep-merge` into ROOT/merged. If a task fails or is
#   cancelled, Slurm cancels the merge job (--kill-on-invalid-dep=yes).
# - To finish a sweep after a failed or cancelled shard I, submit again with SHARDS = I: the shard
#   reruns into ROOT/shard-I, running only its points without an ok record, then a new merge job runs.
#
# SBATCH_OPTIONs (one word each: --time=2:00:00, --cpus-per-task=4, --hold) go to the array job;
# the SBATCH_* environment variables (SBATCH_PARTITION, SBATCH_ACCOUNT, ...) apply to both jobs.
# Both jobs run in the current directory, so a relative SWEEP.yaml names its bundles as it does in a
# single-machine `cimsim sweep` started here. CIMSIM: the cimsim binary (default: cimsim on PATH).
# Logs: ROOT/logs/shard-I.JOBID.log and ROOT/logs/merge.JOBID.log.
# Prints "ARRAY_JOB_ID MERGE_JOB_ID" on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
options=()
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do options+=("$1"); shift; done
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: submit-sweep.sh [SBATCH_OPTION...] SWEEP.yaml ROOT N [SHARDS]" >&2
  exit 2
fi
sweep="$1" root="$(realpath -ms -- "$2")" n="$3" shards="${4:-1-$3}"
die() { echo "submit-sweep.sh: $*" >&2; exit 2; }
[ -f "$sweep" ] || die "$sweep: no such sweep file"
[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$n'"
cimsim="$(command -v "${CIMSIM:-cimsim}")" || die "no cimsim binary '${CIMSIM:-cimsim}' (set CIMSIM)"
cimsim="$(realpath -s -- "$cimsim")"
mkdir -p "$root/logs"

common=(--parsable --chdir="$PWD" --export="ALL,CIMSIM=$cimsim")
array=$(sbatch "${common[@]}" --array="$shards" --output="$root/logs/shard-%a.%A.log" "${options[@]}" \
  "$here/sweep-array.sh" "$sweep" "$root" "$n")
array="${array%%;*}"
merge=$(sbatch "${common[@]}" --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$root/logs/merge.%j.log" "$here/sweep-merge.sh" "$root" "$n") ||
  die "job array $array submitted, but not its merge job (sbatch $here/sweep-merge.sh $root $n)"
merge="${merge%%;*}"
echo "submit-sweep.sh: shards $shards of $n: job array $array; merge into $root/merged: job $merge" >&2
echo "$array $merge"
