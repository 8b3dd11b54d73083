#!/usr/bin/env bash
# slurm/local-cluster: start waits for an idle node; a second start on the same directory (leftovers
# of a crashed test) replaces the first cluster; jobs run with srun --mpi=pmix across 2 Open MPI
# ranks; stop leaves no process of the cluster behind; two clusters run side by side.
source "$(dirname "$0")/lib.sh"
lc=$SRC/slurm/local-cluster
start_cluster
first_ctld=$(cat "$cluster/slurmctld.pid")
"$lc" start "$cluster"  # leftovers: the running cluster in the same directory
if [[ $(awk '{print $3}' "/proc/$first_ctld/stat" 2> /dev/null) =~ ^[RSD]$ ]]; then
  fail "the first slurmctld (pid $first_ctld) survived the second start"
fi
"$lc" status "$cluster" | tee "$work/status.txt"
grep -q "node: idle" "$work/status.txt" || fail "node not idle after start"

# A second cluster beside it, on other ports.
other=$work/other
"$lc" start "$other"
[[ $(grep SlurmctldPort "$other/slurm.conf") != $(grep SlurmctldPort "$cluster/slurm.conf") ]] || fail "same port twice"

cat > "$work/job.sh" <<'JOB'
#!/bin/bash
#SBATCH --ntasks=2
srun --mpi=pmix "$AVF" train --help > /dev/null && echo "ranks ok"
sleep 300
JOB
job=$(sbatch --parsable --output="$work/job.out" "$work/job.sh")
wait_for 30 "job running" bash -c "squeue -h -j $job -o %T | grep -q RUNNING"
wait_for 30 "srun with pmix" grep -q "ranks ok" "$work/job.out"
"$lc" stop "$other"
"$lc" stop "$cluster"
cluster=""
for dir in "$work/cluster" "$other"; do
  if "$lc" status "$dir" > /dev/null; then fail "$dir: a daemon still runs after stop"; fi
  left=$(grep -lzxF "SLURM_CONF=$dir/slurm.conf" /proc/[0-9]*/environ 2> /dev/null | grep -v "/proc/$$/" || true)
  # Alive (not a zombie waiting for init) and a daemon, step or job process of that cluster.
  for f in $left; do
    pid=${f#/proc/}
    pid=${pid%/environ}
    state=$(awk '{print $3}' "/proc/$pid/stat" 2> /dev/null) || continue
    [[ $state == Z ]] && continue
    if [[ $(cat "/proc/$pid/comm" 2> /dev/null) == slurm* ]] || grep -qz '^SLURM_JOB_ID=' "$f" 2> /dev/null; then
      fail "process $pid ($(cat "/proc/$pid/comm")) of $dir still runs"
    fi
  done
done
echo PASS
