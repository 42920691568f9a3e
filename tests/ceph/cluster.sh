#!/usr/bin/env bash
# Bring up / tear down a throwaway single-host Ceph cluster (1 mon, 1 mgr,
# 3 memstore OSDs on 127.0.0.1, cephx on) from Debian's packages. OSD_OBJECTSTORE=bluestore
# makes durable OSDs instead, each on a sparse file under DIR (the gateway benchmark's peer).
#
#   tests/ceph/cluster.sh up DIR [TIMEOUT_S]   -> prints DIR/ceph.conf
#   tests/ceph/cluster.sh down DIR             -> kills recorded pids, rm -rf DIR
#   tests/ceph/cluster.sh status DIR           -> ceph -s
#
# Every daemon is started with --pid-file under DIR/run; `down` kills only
# those pids (never by process name).
set -euo pipefail

NUM_OSDS=${NUM_OSDS:-3}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-4294967296}  # memstore keeps data in RAM, allocated as used
OSD_OBJECTSTORE=${OSD_OBJECTSTORE:-memstore}
BLUESTORE_BYTES=${BLUESTORE_BYTES:-21474836480}  # a sparse file: disk is used as data is written

log() { echo "cluster.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need() {
    local b
    for b in ceph ceph-mon ceph-mgr ceph-osd ceph-authtool monmaptool uuidgen; do
        command -v "$b" >/dev/null || die "missing $b (apt-get install -y ceph-mon ceph-mgr ceph-osd uuid-runtime)"
    done
}

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

start_daemon() { # name cmd...
    local name=$1; shift
    "$@" >>"$DIR/log/$name.stdout" 2>&1
    # daemons fork themselves (no -f) and write --pid-file; wait for it
    local i
    for i in $(seq 50); do
        [[ -s "$DIR/run/$name.pid" ]] && return 0
        sleep 0.1
    done
    die "$name did not write its pid file; see $DIR/log"
}

cmd_up() {
    need
    DIR=$(realpath -m "$1")
    local timeout=${2:-120}
    [[ -e "$DIR/ceph.conf" ]] && die "$DIR already holds a cluster"
    mkdir -p "$DIR"/{run,log,mon/a,mgr/x}
    local t0 port fsid conf
    t0=$(date +%s.%N)
    port=$(free_port)
    fsid=$(uuidgen)
    conf="$DIR/ceph.conf"
    cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$port
mon initial members = a
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $DIR/\$name.keyring
run dir = $DIR/run
log file = $DIR/log/\$name.log
admin socket = $DIR/run/\$name.\$pid.asok
pid file = $DIR/run/\$name.pid
crash dir = $DIR/crash
ms bind ipv4 = true
ms bind ipv6 = false
osd objectstore = $OSD_OBJECTSTORE
memstore device bytes = $MEMSTORE_BYTES
bluestore block create = true
bluestore block size = $BLUESTORE_BYTES
osd memory target = 1073741824
osd fast shutdown = false
osd pool default size = 3
osd pool default min size = 2
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon data avail warn = 1
mon data avail crit = 0
mon allow pool delete = true
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on msgr2 not enabled = false
auth allow insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
osd data = $DIR/osd/\$id
osd journal size = 100
mgr data = $DIR/mgr/\$id
mon data = $DIR/mon/\$id
mgr disabled modules = dashboard
# a client op the cluster cannot serve fails (ETIMEDOUT) instead of hanging a test run
rados osd op timeout = 120
rados mon op timeout = 60
client mount timeout = 60

[mon]
mon cluster log file = $DIR/log/cluster.log
EOF
    # keyrings
    ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool --create-keyring "$DIR/client.admin.keyring" --gen-key -n client.admin \
        --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
    cp "$DIR/mon.keyring" "$DIR/mon.a.keyring"
    ceph-authtool "$DIR/mon.a.keyring" --import-keyring "$DIR/client.admin.keyring" >/dev/null
    # monmap + mon
    monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$port]" "$DIR/monmap" >/dev/null
    ceph-mon -c "$conf" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.a.keyring" >/dev/null 2>&1 \
        || die "ceph-mon --mkfs failed"
    start_daemon mon.a ceph-mon -c "$conf" -i a --pid-file "$DIR/run/mon.a.pid"
    local C=(ceph -c "$conf" --connect-timeout 10)
    # mgr
    mkdir -p "$DIR/mgr/x"
    "${C[@]}" auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' \
        -o "$DIR/mgr.x.keyring" >/dev/null
    cp "$DIR/mgr.x.keyring" "$DIR/mgr/x/keyring"
    start_daemon mgr.x ceph-mgr -c "$conf" -i x --pid-file "$DIR/run/mgr.x.pid"
    # osds
    local i uuid id
    for i in $(seq 0 $((NUM_OSDS - 1))); do
        uuid=$(uuidgen)
        id=$("${C[@]}" osd new "$uuid")
        mkdir -p "$DIR/osd/$id"
        ceph-osd -c "$conf" -i "$id" --no-mon-config --mkfs --mkkey --osd-uuid "$uuid" \
            --keyring "$DIR/osd.$id.keyring" >>"$DIR/log/osd.$id.mkfs" 2>&1 \
            || die "ceph-osd --mkfs osd.$id failed"
        "${C[@]}" auth add "osd.$id" osd 'allow *' mon 'allow profile osd' mgr 'allow profile osd' \
            -i "$DIR/osd.$id.keyring" >/dev/null 2>&1
        start_daemon "osd.$id" ceph-osd -c "$conf" -i "$id" --pid-file "$DIR/run/osd.$id.pid"
    done
    # wait for every OSD up, and HEALTH_OK (an OSD still booting is not "down": health is OK without it)
    local deadline h up
    deadline=$(($(date +%s) + timeout))
    while :; do
        h=$("${C[@]}" health 2>/dev/null || true)
        up=$("${C[@]}" osd stat -f json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["num_up_osds"])' || true)
        [[ $h == HEALTH_OK* && $up == "$NUM_OSDS" ]] && break
        if (($(date +%s) > deadline)); then
            "${C[@]}" health detail >&2 || true
            die "cluster not HEALTH_OK with $NUM_OSDS OSDs up after ${timeout}s (last: $h, $up up); logs in $DIR/log"
        fi
        sleep 0.5
    done
    log "HEALTH_OK, $NUM_OSDS OSDs up, after $(python3 -c "import time;print(round(time.time()-$t0,1))")s"
    echo "$conf"
}

cmd_down() {
    DIR=$(realpath -m "$1")
    [[ -d "$DIR" ]] || { log "$DIR does not exist"; return 0; }
    local f pid pids=()
    for f in "$DIR"/run/*.pid; do
        [[ -e $f ]] || continue
        pid=$(cat "$f")
        # only kill it if it is still a ceph daemon we started (pid reuse)
        if [[ -n $pid ]] && grep -q "$DIR" "/proc/$pid/cmdline" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done
    local i
    for i in $(seq 100); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$DIR"
}

case ${1:-} in
up) [[ $# -ge 2 ]] || die "usage: $0 up DIR [TIMEOUT_S]"; cmd_up "$2" "${3:-120}" ;;
down) [[ $# -ge 2 ]] || die "usage: $0 down DIR"; cmd_down "$2" ;;
status) ceph -c "$(realpath -m "$2")/ceph.conf" -s ;;
*) die "usage: $0 up DIR [TIMEOUT_S] | down DIR | status DIR" ;;
esac
