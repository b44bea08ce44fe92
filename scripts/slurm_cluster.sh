#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for tests and CI (recipe: shared/slurm/README.md).
#   scripts/slurm_cluster.sh start     write the config, start munged, slurmctld, slurmd; wait for 'idle'
#   scripts/slurm_cluster.sh stop      cancel jobs, stop the daemons
# The node advertises one stand-in GPU (File=/dev/null) so rules that ask for a GPU can be scheduled.
# slurm-wlm and munge come from scripts/install_system_packages.sh (make test runs it).
set -euo pipefail
cmd=${1:?usage: slurm_cluster.sh start|stop}
host=$(hostname -s)

start() {
    getent hosts "$host" >/dev/null || echo "127.0.0.1 $host" >> /etc/hosts
    if sinfo -h -o %t 2>/dev/null | grep -q idle; then return 0; fi
    local mem=$(( $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) - 2048 ))
    mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
    chown munge:munge /run/munge
    cat > /etc/slurm/slurm.conf <<CONF
GresTypes=gpu
ClusterName=local
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
ReturnToService=2
MinJobAge=100
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MailProg=/bin/true
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN Gres=gpu:1
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    echo "NodeName=$host Name=gpu File=/dev/null" > /etc/slurm/gres.conf
    [ -f /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null \
        || su -s /bin/sh munge -c /usr/sbin/munged
    slurmctld
    slurmd
    for _ in $(seq 60); do
        sinfo -h -o %t 2>/dev/null | grep -q idle && { echo "slurm: node $host idle"; return 0; }
        sleep 1
    done
    echo "slurm did not come up; scontrol says:" >&2
    scontrol show node "$host" >&2 || true
    tail -20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
    return 1
}

stop() {
    scancel --user=root 2>/dev/null || true
    for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    return 0
}

"$cmd"
