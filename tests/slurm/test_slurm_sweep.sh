#!/usr/bin/env bash
# A sharded sweep on a real single-node Slurm cluster, through the shipped tools/slurm scripts.
# The test starts its own munged, slurmctld and slurmd (Debian's munge and slurm-wlm) as root, on a
# private munge socket and key, free ports and state, spool and log directories in a temporary
# directory, and stops them at the end, whatever happens. It never touches a system-wide daemon.
#   1. submit-sweep.sh runs a 12-point sweep as an array of 3 shards and a dependent merge job;
#      the merged directory equals a single-machine `cimsim sweep` of the same file byte for byte
#      (results, summary, sweep.json and plots; stats.json and point.json but for
#      their wall-clock times).
#   2. The same with shard 2 cancelled by the scheduler (scancel) after its first point: Slurm
#      cancels the merge job, sweep-merge names the missing points and writes nothing; shard 2
#      resubmitted alone runs only its remaining points, and the new merge equals the single run.
# Usage: test_slurm_sweep.sh CIMSIM_BINARY SOURCE_DIR
# Exit status 77 (skipped) when the Slurm or munge daemons are not installed or not run as root.
set -uo pipefail
cimsim="$1"
src="$(cd "$2" && pwd)"
py=/usr/bin/python3
PATH="$PATH:/usr/sbin:/sbin"
for b in munged slurmctld slurmd sbatch scontrol squeue sinfo scancel; do
  command -v "$b" >/dev/null || { echo "SKIPPED: $b not installed (apt-get install slurm-wlm munge)"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIPPED: slurmd must run as root"; exit 77; }
# Nothing from an enclosing Slurm job or the caller's settings reaches the test's cluster.
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(SLURM|SBATCH|SQUEUE|SINFO|SCONTROL|SRUN|SALLOC)_')

# Short paths: munged and slurmd bind Unix sockets inside it (at most 107 bytes).
work="$(mktemp -d /tmp/cimsim-slurm.XXXXXX)"
chmod 755 "$work"
export SLURM_CONF="$work/slurm.conf"
daemons=()  # the pids of munged, slurmctld and slurmd
stop_cluster() {
  if [ -e "$work/slurmctld.started" ]; then
    scancel --quiet "--user=$(id -un)" 2>/dev/null
    for _ in $(seq 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  local pid
  for pid in "${daemons[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${daemons[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.2
  done
  # Whatever is left of ours (a daemon, a slurmstepd or a job's process, all started with this
  # SLURM_CONF in their environment) is killed by pid.
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    [ "$pid" = $$ ] && continue
    if grep -qzxF "SLURM_CONF=$SLURM_CONF" "$p/environ" 2>/dev/null; then
      echo "stopping leftover process $pid: $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  wait 2>/dev/null
}
trap 'stop_cluster; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
passed=0
failed=0
source "$src/tests/support/cli_checks.sh"

die() {  # die MESSAGE: the cluster cannot go on; shows the daemons' logs
  echo "FAILED: $*"
  for f in "$work"/log/*; do
    [ -s "$f" ] && { echo "--- last lines of $f"; tail -n 25 "$f"; }
  done
  exit 1
}

# Two free TCP ports below the ephemeral range, for slurmctld and slurmd.
read -r ctld_port slurmd_port < <($py - <<'PY'
import random, socket
ports = []
while len(ports) < 2:
    p = random.randint(20000, 32000)
    with socket.socket() as s:
        try:
            s.bind(("", p))
        except OSError:
            continue
    if p not in ports:
        ports.append(p)
print(*ports)
PY
)
host="$(hostname -s)"
mkdir -p "$work/munge" "$work/state" "$work/spool/$host" "$work/log"
chmod 755 "$work/munge"
head -c 1024 /dev/urandom >"$work/munge/munge.key"
chmod 600 "$work/munge/munge.key"
cat >"$SLURM_CONF" <<CONF
ClusterName=cimsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.sock
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool/%n
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
ReturnToService=2
KillWait=2
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

# The sweep: 4 ADC widths x 3 seeds = 12 points of 0.5 s each on one core, 4 per shard.
cat >"$work/sweep.yaml" <<YAML
name: slurm
hw: $src/configs/hw/rram-neurosim-128-4b.yaml
model: $src/configs/models/lenet5-fmnist-4b
limit: 1000
batch: 50
vary:
  macro.adc_bits: [3, 4, 5, 6]
seeds: {first: 1, count: 3}
YAML
start=$SECONDS
# Every wait ends by then, before ctest's timeout (300 s; 1500 s in the sanitizer build, whose runs
# are about 5 times slower: ASAN_OPTIONS set, docs/testing.md).
deadline=$((start + ${ASAN_OPTIONS:+5*}240))
"$cimsim" -q sweep "$work/sweep.yaml" --out "$work/single" --jobs 2 || die "the single-machine sweep failed"
echo "single-machine sweep: $((SECONDS - start)) s"

# The cluster.
munged --foreground --force --socket="$work/munge/munge.sock" --key-file="$work/munge/munge.key" \
  --log-file="$work/log/munged.log" --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/seed" \
  >"$work/log/munged.out" 2>&1 &
daemons+=($!)
for _ in $(seq 100); do [ -S "$work/munge/munge.sock" ] && break; sleep 0.1; done
[ -S "$work/munge/munge.sock" ] || die "munged did not start"
touch "$work/slurmctld.started"
slurmctld -D -i -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
daemons+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" >"$work/log/slurmd.out" 2>&1 &
daemons+=($!)
for _ in $(seq 300); do
  [ "$(sinfo -h -N -o %t 2>/dev/null)" = "idle" ] && break
  sleep 0.1
done
[ "$(sinfo -h -N -o %t 2>/dev/null)" = "idle" ] || die "the node did not become idle: $(sinfo -N 2>&1)"
echo "cluster up: $((SECONDS - start)) s (slurmctld port $ctld_port, slurmd port $slurmd_port)"

job_field() {  # job_field JOB FIELD: FIELD of `scontrol show job JOB` (an array task: ARRAY_TASK)
  scontrol -o show job "$1" 2>/dev/null | head -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
wait_ended() {  # wait_ended JOB...: until no job is pending, running or completing
  local j
  while [ $SECONDS -lt $deadline ]; do
    local busy=0
    for j in "$@"; do
      case "$(job_field "$j" JobState)" in
        PENDING | RUNNING | SUSPENDED | CONFIGURING | COMPLETING | REQUEUED | RESIZING) busy=1 ;;
      esac
      [ -n "$(squeue -h -j "$j" 2>/dev/null)" ] && busy=1
    done
    [ $busy -eq 0 ] && return 0
    sleep 0.1
  done
  echo "  timed out waiting for jobs $*: $(squeue 2>&1)"
  return 1
}
states() {  # states JOB...: their states, space-separated
  local j out=()
  for j in "$@"; do out+=("$(job_field "$j" JobState)"); done
  echo "${out[*]}"
}
expect_states() {  # expect_states "STATE..." JOB...: the jobs ended in these states
  local want="$1" got
  shift
  got="$(states "$@")"
  [ "$got" = "$want" ] || { echo "  jobs $*: $got, expected $want"; return 1; }
}
same_as_single() {  # same_as_single DIR: the merged sweep in DIR equals the single-machine one
  $py - "$work/single" "$1" <<'PY'
import json, os, sys
a, b = sys.argv[1:]
assert os.path.isdir(b), f"{b} does not exist"
def files(d):
    return sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)
fa, fb = files(a), files(b)
assert fa == fb, f"different files: {sorted(set(fa) ^ set(fb))}"
assert "results.csv" in fa and len([f for f in fa if f.endswith("point.json")]) == 12, fa
bad = []
for f in fa:
    if f.endswith("run.log"):  # a point's log: its result line ends with the wall-clock time
        continue
    x, y = open(os.path.join(a, f), "rb").read(), open(os.path.join(b, f), "rb").read()
    if f.endswith(("stats.json", "point.json")):  # equal but for the wall-clock times
        x, y = json.loads(x), json.loads(y)
        for d in (x, y):
            d.pop("wall_seconds" if f.endswith("stats.json") else "seconds")
    if x != y:
        bad.append(f)
assert not bad, f"files that differ: {bad}"
PY
}
submit() {  # submit ARGS...: tools/slurm/submit-sweep.sh; sets array and merge to the job ids
  local ids
  ids=$(CIMSIM="$cimsim" bash "$src/tools/slurm/submit-sweep.sh" "$@") || return 1
  read -r array merge <<<"$ids"
  [ -n "$array" ] && [ -n "$merge" ]
}
show_logs() {  # show_logs ROOT: the job logs, when a check failed
  for f in "$1"/logs/*.log; do echo "--- $f"; tail -n 8 "$f"; done
}
cd "$work" || exit 1

# 1. An array of 3 shards and the merge.
phase=$SECONDS
check "submit-sweep.sh submits the array and the merge job" submit "$work/sweep.yaml" "$work/a" 3
check "the array and the merge job end" wait_ended "${array}_1" "${array}_2" "${array}_3" "$merge"
check "every shard and the merge completed" \
  expect_states "COMPLETED COMPLETED COMPLETED COMPLETED" "${array}_1" "${array}_2" "${array}_3" "$merge"
check "each shard ran its 4 points" bash -c "for i in 1 2 3; do
  grep -q '12 points (4 in shard '\$i'/3), 0 already done, running 4 with 1 job' '$work/a/logs/shard-'\$i.$array.log || exit 1; done"
check "the merged sweep equals the single-machine one" same_as_single "$work/a/merged"
[ $failed -eq 0 ] || show_logs "$work/a"
failed_before=$failed
echo "array of 3 shards and merge: $((SECONDS - phase)) s"

# 2. Shard 2 cancelled by the scheduler after its first point, then resubmitted alone. The array is
# held so that shard 2 runs first, alone: it is cancelled as soon as a point of it is recorded.
phase=$SECONDS
check "submit a held array" submit --hold "$work/sweep.yaml" "$work/b" 3
records() { ls "$work"/b/shard-2/points/*/point.json 2>/dev/null | wc -l; }
scontrol release "${array}_2"
while [ "$(records)" -lt 1 ] && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
scancel "${array}_2"
scontrol release "${array}_1" "${array}_3"
check "the array ends" wait_ended "${array}_1" "${array}_2" "${array}_3" "$merge"
done_before=$(records)
check "shard 2 was cancelled after 1 to 3 of its 4 points (it had $done_before)" \
  test "$done_before" -ge 1 -a "$done_before" -le 3
check "shards 1 and 3 completed, shard 2 cancelled" \
  expect_states "COMPLETED CANCELLED COMPLETED" "${array}_1" "${array}_2" "${array}_3"
check "Slurm cancelled the merge job" expect_states CANCELLED "$merge"
reason="$(job_field "$merge" Reason)"
check "... because its dependency can never be met (reason: $reason)" test "$reason" = DependencyNeverSatisfied
check "the cancelled shard wrote no results" test ! -e "$work/b/shard-2/results.csv"
check "no merged sweep" test ! -e "$work/b/merged"
# Shard 2 holds points 1, 4, 7 and 10 and runs them in that order.
missing=$(echo 1 4 7 10 | cut -d' ' -f$((done_before + 1))- | sed 's/ /, /g')
expect_error "sweep-merge names the points shard 2 has not recorded" \
  "$((4 - done_before)) of 12 points have no record" "(points $missing)" -- \
  "$cimsim" sweep-merge "$work/b/shard-1" "$work/b/shard-2" "$work/b/shard-3" --out "$work/b/merged"
check "sweep-merge wrote nothing" test ! -e "$work/b/merged"
first_array=$array
check "resubmit shard 2 alone" submit "$work/sweep.yaml" "$work/b" 3 2
check "the resubmitted shard and the new merge end" wait_ended "${array}_2" "$merge"
check "the resubmitted shard and the merge completed" expect_states "COMPLETED COMPLETED" "${array}_2" "$merge"
check "the resubmitted shard ran only the points it had not recorded" \
  grep -q "12 points (4 in shard 2/3), $done_before already done, running $((4 - done_before)) with" \
  "$work/b/logs/shard-2.$array.log"
check "the merged sweep equals the single-machine one" same_as_single "$work/b/merged"
[ $failed -eq "$failed_before" ] || show_logs "$work/b"
echo "shard cancelled (job ${first_array}_2, $done_before of 4 points recorded), resubmitted and merged: $((SECONDS - phase)) s"

echo "total: $((SECONDS - start)) s"
cli_summary
