#!/usr/bin/env bash
# One shard of a cimsim sweep as one task of a Slurm job array (submit-sweep.sh submits it).
#
#   sbatch --array=1-N tools/slurm/sweep-array.sh SWEEP.yaml ROOT N
#
# Array task I runs `cimsim sweep SWEEP.yaml --out ROOT/shard-I --shard I/N`. Shards are numbered
# 1..N as --shard counts them, so the array index is the shard number; N is an argument, not the
# array's size, so that one shard can be resubmitted alone (--array=I). A task rerun into the same
# ROOT/shard-I runs only the points of the shard that have no ok record there.
#
# CIMSIM: the cimsim binary (default: cimsim on PATH). The task runs SLURM_CPUS_PER_TASK points at
# once (sbatch --cpus-per-task, default 1), each with one OpenMP thread unless OMP_NUM_THREADS is set
# (cimsim would otherwise share out all the node's cores, not the job's).
#SBATCH --job-name=cimsim-sweep
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: sbatch --array=1-N sweep-array.sh SWEEP.yaml ROOT N" >&2
  exit 2
fi
sweep="$1" root="$2" n="$3"
if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
  echo "sweep-array.sh: not a job array task; submit it with sbatch --array=1-$n" >&2
  exit 2
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "${CIMSIM:-cimsim}" sweep "$sweep" --out "$root/shard-$SLURM_ARRAY_TASK_ID" \
  --shard "$SLURM_ARRAY_TASK_ID/$n" --jobs "${SLURM_CPUS_PER_TASK:-1}"
