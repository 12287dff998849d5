#!/usr/bin/env bash
# A two-machine MPI run on one machine: two network namespaces joined by a veth pair (10.200.0.1 and 10.200.0.2), one
# rank in each, TCP transport only. mpirun starts its daemon in the second namespace through this script (as the
# launch agent, in place of ssh), each namespace with a hostname of its own. Needs root (CAP_NET_ADMIN).
#
#   scripts/mpi-netns.sh up                      create the namespaces and the link
#   scripts/mpi-netns.sh run PROGRAM [ARGS...]   mpirun -n 2, rank 0 in mpins-a, rank 1 in mpins-b
#   scripts/mpi-netns.sh down                    remove them
set -euo pipefail
a=mpins-a b=mpins-b

case "${1:-}" in
  up)
    ip netns add $a
    ip netns add $b
    ip link add mpiveth-a type veth peer name mpiveth-b
    ip link set mpiveth-a netns $a
    ip link set mpiveth-b netns $b
    ip -n $a addr add 10.200.0.1/24 dev mpiveth-a
    ip -n $b addr add 10.200.0.2/24 dev mpiveth-b
    for ns in $a $b; do ip -n $ns link set lo up; done
    ip -n $a link set mpiveth-a up
    ip -n $b link set mpiveth-b up
    ;;
  down)
    ip netns del $a 2>/dev/null || true
    ip netns del $b 2>/dev/null || true
    ;;
  run)
    shift
    hosts=$(mktemp)
    printf 'node-a slots=1\nnode-b slots=1\n' > "$hosts"
    # Each namespace resolves both names to the veth addresses.
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    exec ip netns exec $a unshare --uts --mount /bin/bash -c '
      hostname node-a
      printf "10.200.0.1 node-a\n10.200.0.2 node-b\n127.0.0.1 localhost\n" > /tmp/mpins-hosts
      mount --bind /tmp/mpins-hosts /etc/hosts
      exec mpirun -n 2 --hostfile "$0" --mca plm_rsh_agent "$1 agent" \
        --mca btl tcp,self --mca btl_tcp_if_include 10.200.0.0/24 --mca oob_tcp_if_include 10.200.0.0/24 \
        "${@:2}"' "$hosts" "$(realpath "$0")" "$@"
    ;;
  agent)
    # Called by mpirun as "<agent> node-b <command>": run the command in the second namespace.
    shift
    [[ "$1" == node-b ]] || { echo "mpi-netns.sh agent: unknown host $1" >&2; exit 1; }
    shift
    exec ip netns exec $b unshare --uts /bin/bash -c "hostname node-b; $*"
    ;;
  *)
    echo "usage: scripts/mpi-netns.sh up | run PROGRAM [ARGS...] | down" >&2
    exit 2
    ;;
esac
