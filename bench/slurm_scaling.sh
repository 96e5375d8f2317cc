#!/usr/bin/env bash
# Images per second of `ax --data` as a SLURM job array on this machine: 1 task (all cores) vs
# 4 tasks (cores shared out), each timed from submission to the merged CSV, beside one plain
# unsharded run. Starts a private one-node SLURM cluster (munged, slurmctld, slurmd) in a temporary
# folder, as tests/slurm/ does, and stops it at the end. Needs root and slurm-wlm + munge.
# Usage: bench/slurm_scaling.sh          (from the repository root after `make release`)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${BIN:-target/release/heatmap-explorer}")
MODEL=$(realpath "${MODEL:-models/phantom_squeezenet.json}")
COUNT=${COUNT:-400}          # phantoms
BATCH=${BATCH:-16}
METHODS=${METHODS:-all}
GAX_STEPS=${GAX_STEPS:-0}
TASKS=${TASKS:-1 4}          # array sizes to time
CPUS=$(nproc)
[ "$(id -u)" = 0 ] || { echo "run as root (slurmd and munged)"; exit 1; }
for b in munged slurmctld slurmd sbatch squeue; do
  command -v $b >/dev/null || { echo "$b missing: apt-get install slurm-wlm munge"; exit 1; }
done

W=$(mktemp -d /tmp/hx-slurm-bench-XXXXXX)
pids=()
cleanup() {
  timeout 20 squeue -h -o %i 2>/dev/null | xargs -r timeout 20 scancel 2>/dev/null || true
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.2; done
    kill -9 "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W"/{munge,state,spool,log}
chmod 755 "$W" "$W/munge" # munged wants its socket's folders searchable by all
head -c 1024 /dev/urandom >"$W/munge/key" && chmod 600 "$W/munge/key"
munged -F --socket="$W/munge/socket" --key-file="$W/munge/key" --log-file="$W/munge/log" \
  --pid-file="$W/munge/pid" --seed-file="$W/munge/seed" >"$W/log/munged.out" 2>&1 &
pids+=($!)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
host=$(hostname -s)
export SLURM_CONF=$W/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=hxbench
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(port)
SlurmdPort=$(port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$W/munge/socket
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/log/slurmctld.log
SlurmdLogFile=$W/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
NodeName=hxnode NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=hx Nodes=hxnode Default=YES MaxTime=INFINITE State=UP
EOF
for _ in $(seq 100); do [ -S "$W/munge/socket" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >"$W/log/slurmctld.out" 2>&1 &
pids+=($!)
for _ in $(seq 300); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
slurmd -D -N hxnode -f "$SLURM_CONF" >"$W/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 300); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 0.2; done
sinfo -h -o %T | grep -q idle || { echo "the private SLURM node did not come up"; tail "$W"/log/*; exit 1; }

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
rate() { awk -v n="$COUNT" -v t="$1" 'BEGIN { print n / t }'; }
"$BIN" phantom --out "$W/data" --count "$COUNT" --seed 2028 2>/dev/null
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m) $CPUS cores; $COUNT phantoms, $(basename "$MODEL"), methods $METHODS, batch $BATCH, gax steps $GAX_STEPS"
start=$(date +%s.%N)
"$BIN" ax --model "$MODEL" --data "$W/data" --methods "$METHODS" --batch "$BATCH" \
  --gax-steps "$GAX_STEPS" --out "$W/plain.csv" >/dev/null 2>&1
t=$(since "$start")
printf 'plain ax --data (%d threads): %.1f s, %.2f images/s\n' "$CPUS" "$t" "$(rate "$t")"
for n in $TASKS; do
  cpus=$((CPUS / n > 0 ? CPUS / n : 1))
  out=$W/run$n
  start=$(date +%s.%N)
  HX_BIN=$BIN HX_MODEL=$MODEL HX_DATA=$W/data HX_OUT=$out HX_TASKS=$n HX_BATCH=$BATCH \
    HX_METHODS=$METHODS HX_GAX_STEPS=$GAX_STEPS HX_CPUS=$cpus HX_GPUS=0 \
    bash scripts/slurm/ax-array.sbatch >/dev/null
  while [ -n "$(squeue -h -o %i)" ]; do sleep 0.2; done
  t=$(since "$start")
  [ -f "$out/ax.csv" ] || { echo "run with $n tasks did not merge"; tail "$out"/logs/*; exit 1; }
  printf 'SLURM array, %d task(s) x %d CPU(s), submit to merged CSV: %.1f s, %.2f images/s\n' \
    "$n" "$cpus" "$t" "$(rate "$t")"
done
