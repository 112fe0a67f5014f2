#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for testing the Slurm sweep runner (needs root and
# Debian's slurm-wlm + munge; installs them with apt-get when missing).
#   scripts/slurm_localhost.sh start   install if needed, configure, start munged/slurmctld/slurmd
#   scripts/slurm_localhost.sh stop    stop the daemons
#   scripts/slurm_localhost.sh status  exit 0 if the cluster answers
# State lives under /var/lib/spahgc-slurm; the configuration goes to /etc/slurm/slurm.conf
# (an existing one is kept aside as slurm.conf.spahgc-backup).
set -euo pipefail
STATE=/var/lib/spahgc-slurm
CONF=/etc/slurm/slurm.conf

need_root() {
  if [ "$(id -u)" != "0" ]; then echo "slurm_localhost: needs root" >&2; exit 3; fi
}

install() {
  if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { echo "slurm_localhost: no apt-get to install slurm-wlm" >&2; exit 3; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >&2
  fi
}

configure() {
  mkdir -p "$STATE"/{ctld,d,log} /etc/slurm /run/munge /var/log/munge /var/lib/munge /etc/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
  fi
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  chmod 0700 /etc/munge
  chmod 0400 /etc/munge/munge.key
  if [ -f "$CONF" ] && ! grep -q "spahgc-localhost" "$CONF"; then cp "$CONF" "$CONF.spahgc-backup"; fi
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
  # No accounting daemon, no cgroups: the smallest configuration that schedules job arrays.
  cat > "$CONF" <<EOF
# spahgc-localhost: written by scripts/slurm_localhost.sh
ClusterName=spahgc-localhost
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=300
MaxArraySize=100001
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  # Debian's packages read cgroup.conf when it exists; none is needed here.
  rm -f /etc/slurm/cgroup.conf
}

start() {
  need_root
  install
  configure
  pgrep -x munged >/dev/null || (su -s /bin/sh munge -c "/usr/sbin/munged" 2>/dev/null || /usr/sbin/munged --force)
  pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld -c
  pgrep -x slurmd >/dev/null || /usr/sbin/slurmd -c
  for _ in $(seq 1 30); do
    if sinfo -h -o "%T" 2>/dev/null | grep -qE "idle|mix|alloc"; then
      echo "slurm_localhost: up ($(sinfo -h -o '%N %c CPUs %T'))" >&2
      return 0
    fi
    scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  echo "slurm_localhost: cluster did not come up; see $STATE/log" >&2
  exit 4
}

stop() {
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  for _ in $(seq 1 20); do
    pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || break
    sleep 0.5
  done
  echo "slurm_localhost: stopped" >&2
}

status() {
  sinfo -h -o "%T" 2>/dev/null | grep -qE "idle|mix|alloc"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
