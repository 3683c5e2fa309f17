#!/usr/bin/env bash
# Verifies the message in $2 with opendkim-testmsg (Debian opendkim-tools), which asks the system resolver for keys.
# To point it at the test zone ($1, a zone file for origin $3) without touching this machine's DNS, it runs in its
# own network and mount namespaces (unshare): NSD serves the zone on the namespace's own 127.0.0.1:53, and
# /etc/resolv.conf is bind-mounted (in that namespace only) to name it. Exit 0 when the message verifies.
# opendkim-testmsg wants CRLF line ends throughout, and refuses ("dkim_chunk(): Syntax error") a header without Date.
set -euo pipefail
zone=$1 message=$2 origin=$3
exec unshare --mount --net /bin/bash -s "$zone" "$message" "$origin" <<'INNER'
set -euo pipefail
zone=$1 message=$2 origin=$3
dir=$(mktemp -d /tmp/directmail-opendkim-XXXXXX)
cleanup() {
  # Stop NSD and wait for it to go before removing its folder: it writes its state files while it exits.
  local pid
  pid=$(cat "$dir/nsd.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
  fi
  rm -rf "$dir" 2>/dev/null || true
}
trap cleanup EXIT
ip link set lo up
cp "$zone" "$dir/zone"
cat > "$dir/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1
  port: 53
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$dir"
  database: ""
  pidfile: "$dir/nsd.pid"
  logfile: "$dir/nsd.log"
  xfrdfile: "$dir/xfrd.state"
  zonelistfile: "$dir/zone.list"
  server-count: 1
remote-control:
  control-enable: no
zone:
  name: "$origin"
  zonefile: "zone"
CONF
/usr/sbin/nsd -c "$dir/nsd.conf"
for _ in $(seq 1 100); do
  dig +time=1 +tries=1 @127.0.0.1 "$origin" SOA +short 2>/dev/null | grep -q . && break
  sleep 0.05
done
printf 'nameserver 127.0.0.1\n' > "$dir/resolv.conf"
mount --bind "$dir/resolv.conf" /etc/resolv.conf
out=$(/usr/sbin/opendkim-testmsg < "$message" 2>&1) && status=0 || status=$?
printf '%s\n' "$out"
exit $status
INNER
