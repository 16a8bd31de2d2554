#!/usr/bin/env bash
# ksctl-testmachines.sh - throwaway SSH "machines" for testing the self-managed (HA) path.
#
# A machine is an OpenSSH sshd running in its own network namespace (own address on a test
# bridge, own 127.0.0.1) and its own mount namespace (private tmpfs copies of the paths our
# bootstrap scripts write). Nothing is ever routed beyond the test bridge.
#
# Usage:
#   ksctl-testmachines.sh start N [--prefix NAME] [--subnet A.B.C] [--private-subnet A.B.C] [--state-dir DIR] [--sudo-user NAME]
#   ksctl-testmachines.sh inventory      [--prefix NAME] [--state-dir DIR]
#   ksctl-testmachines.sh stop-machine I [--prefix NAME] [--state-dir DIR]
#   ksctl-testmachines.sh start-machine I [--prefix NAME] [--state-dir DIR]
#   ksctl-testmachines.sh adopt I HOSTKEY AUTHKEYS [PRIVATE_CIDR] [--prefix NAME] [--state-dir DIR]
#   ksctl-testmachines.sh firewall I RULES.json|off [--prefix NAME] [--state-dir DIR]
#   ksctl-testmachines.sh firewall-dropped I [--prefix NAME] [--state-dir DIR]
#   ksctl-testmachines.sh reset I [--prefix NAME] [--state-dir DIR]
#   ksctl-testmachines.sh stop|cleanup   [--prefix NAME] [--state-dir DIR]
#
# Defaults: prefix "ks" (bridge ks-br0 10.251.0.1/24, namespaces ks-m1.., veths ks-v1..,
# machine I at 10.251.0.(10+I)), state under /tmp/ksctl-testmachines/<prefix>.
# Like a cloud VM, each machine has two addresses: the public one (eth0, on the bridge above: the only address the
# host reaches) and a private one (eth1 on a second bridge <prefix>-pbr0 that has NO host address, so it is an
# isolated segment only the machines share; default A'.B'.C.(10+I)/24 with A'.B' = 172.(16 + B % 16) derived from
# --subnet A.B.C). Since the host holds no address there, private ranges of different prefixes never collide.
# "start" is idempotent: running healthy machines are kept, leftovers of a crashed run with the
# same prefix are repaired or removed, machines above N are removed. It prints the inventory, a
# JSON array of {name, index, address, privateAddress, port, user, sudoUser, keyPath, rsaKeyPath, hostKey}. With
# --sudo-user NAME every machine also has a non-root user NAME (same keys) with passwordless sudo, made
# from private bind-mounted copies of /etc/passwd, group, shadow and /etc/sudoers.d (needs sudo).
# "adopt" plays cloud-init for cloud emulators: machine I's sshd restarts presenting ONLY the host key in
# file HOSTKEY and also accepts the public keys in file AUTHKEYS (for every user); PRIVATE_CIDR (A.B.C.D/NN), when
# given, becomes its private address (the one the cloud's NIC reports). "reset" makes machine I a fresh one again
# (processes killed, private directories emptied, its own host key and private address back, no firewall), like a new VM.
# "firewall" enforces an inbound ruleset in machine I's namespace with nftables, replacing any earlier one: new
# inbound connections are dropped unless a rule accepts them; established/related and loopback are allowed, egress
# is open. RULES.json is an ordered array (first match wins) of
#   {"action":"accept"|"drop", "protocol":"tcp"|"udp"|"icmp"|"any", "ports":"*"|"N"|"N-M", "source":"*"|"CIDR"}
# ("off" removes the ruleset). "firewall-dropped" prints how many inbound packets the ruleset has dropped.
# Requires root, iproute2, util-linux (unshare, nsenter, setsid) and openssh-server; "firewall" also nftables and jq.

set -euo pipefail

PREFIX="ks"
SUBNET=""
PRIVATE_SUBNET=""
SUDO_USER_NAME=""
SUDO_UID=1500
STATE_ROOT="${KSCTL_TESTMACHINES_STATE:-/tmp/ksctl-testmachines}"
SSHD="${KSCTL_TESTMACHINES_SSHD:-/usr/sbin/sshd}"
# Paths every machine gets a private, empty tmpfs copy of.
PRIVATE_DIRS=(/var/lib/etcd /etc/etcd /etc/haproxy /usr/local/bin /etc/rancher /var/lib/rancher
  /etc/systemd/system /etc/kubernetes /var/lib/kubelet /opt /var/lib/ksctl /var/log/ksctl /run/ksctl
  /etc/ksctl /etc/containerd /etc/modules-load.d /etc/sysctl.d /var/lib/kubeadm-standin)

die() { echo "ksctl-testmachines: $*" >&2; exit 1; }
log() { echo "ksctl-testmachines: $*" >&2; }

usage() {
  sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---- naming -------------------------------------------------------------------------------
bridge_name() { echo "${PREFIX}-br0"; }
netns_name() { echo "${PREFIX}-m$1"; }
veth_name() { echo "${PREFIX}-v$1"; }
private_bridge_name() { echo "${PREFIX}-pbr0"; }
private_veth_name() { echo "${PREFIX}-p$1"; }
machine_dir() { echo "$STATE_DIR/m$1"; }
machine_addr() { echo "$SUBNET.$((10 + $1))"; }
# The private address with its prefix length: the one adopted from a cloud NIC, else the machine's own.
machine_private_cidr() {
  local f
  f="$(machine_dir "$1")/private-address"
  if [[ -s "$f" ]]; then cat "$f"; else echo "$PRIVATE_SUBNET.$((10 + $1))/24"; fi
}

# ---- helpers ------------------------------------------------------------------------------
pid_alive() {
  local pid="$1" stat
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # A killed process its parent has not reaped yet (a zombie) is gone: waiting for the reaper (init, which in a
  # container may reap late) cost seconds per machine on every stop and reset.
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ "${stat%% *}" != Z ]]
}

pid_gone() { ! pid_alive "$1"; }

read_pid() {
  local f="$1"
  if [[ -s "$f" ]]; then tr -d '[:space:]' <"$f"; fi
}

# Poll a condition against a deadline with a growing interval (no fixed sleeps in loops).
wait_for() {
  local timeout_s="$1"; shift
  local deadline=$((SECONDS + timeout_s)) delay=0.02
  until "$@"; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep "$delay"
    delay=$(awk -v d="$delay" 'BEGIN { d = d * 2; if (d > 0.5) d = 0.5; print d }')
  done
}

kill_pidfile() {
  local f="$1" pid
  pid=$(read_pid "$f")
  if pid_alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    if ! wait_for 5 pid_gone "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$f"
}

port_open() {
  local ns="$1" addr="$2"
  ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$addr/22" 2>/dev/null
}

fingerprint() { ssh-keygen -lf "$1" | awk '{print $2}'; }
# The fingerprint of the key the machine's sshd presents (an adopted one wins).
host_fingerprint() {
  if [[ -s "$1/ssh_host_adopted_key" ]]; then
    ssh-keygen -y -f "$1/ssh_host_adopted_key" | ssh-keygen -lf - | awk '{print $2}'
  else
    fingerprint "$1/ssh_host_ed25519_key.pub"
  fi
}

require_root_and_tools() {
  [[ $EUID -eq 0 ]] || die "must run as root (network and mount namespaces)"
  local t
  for t in ip unshare nsenter setsid ssh-keygen awk "$SSHD"; do
    command -v "$t" >/dev/null 2>&1 || die "missing '$t' (apt-get install -y iproute2 util-linux openssh-server)"
  done
}

load_subnet() {
  if [[ -z "$SUBNET" && -s "$STATE_DIR/subnet" ]]; then SUBNET=$(<"$STATE_DIR/subnet"); fi
  if [[ -z "$SUBNET" ]]; then SUBNET="10.251.0"; fi
  [[ "$SUBNET" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "bad --subnet '$SUBNET' (want A.B.C)"
  if [[ -z "$PRIVATE_SUBNET" && -s "$STATE_DIR/private-subnet" ]]; then PRIVATE_SUBNET=$(<"$STATE_DIR/private-subnet"); fi
  if [[ -z "$PRIVATE_SUBNET" ]]; then
    local b
    b=$(cut -d. -f2 <<<"$SUBNET")
    PRIVATE_SUBNET="172.$((16 + b % 16)).$(cut -d. -f3 <<<"$SUBNET")"
  fi
  [[ "$PRIVATE_SUBNET" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "bad --private-subnet '$PRIVATE_SUBNET' (want A.B.C)"
  [[ "$PRIVATE_SUBNET" != "$SUBNET" ]] || die "--private-subnet must differ from --subnet"
}

valid_ipv4() {
  local IFS=. o
  [[ "$1" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || return 1
  for o in $1; do ((10#$o <= 255)) || return 1; done
}

# A.B.C.D/NN with NN 8..30 (a usable host address of a subnet).
valid_cidr() { valid_prefix "$1" 8 30; }

# A.B.C.D/NN with NN between $2 and $3 (BASH_REMATCH is copied first: valid_ipv4 matches again).
valid_prefix() {
  [[ "$1" =~ ^([0-9.]+)/([0-9]{1,2})$ ]] || return 1
  local ip="${BASH_REMATCH[1]}" len="${BASH_REMATCH[2]}"
  valid_ipv4 "$ip" && ((10#$len >= $2 && 10#$len <= $3))
}

# ---- keys ---------------------------------------------------------------------------------
ensure_client_keys() {
  mkdir -p "$STATE_DIR"
  chmod 700 "$STATE_DIR"
  [[ -s "$STATE_DIR/id_ed25519" ]] || ssh-keygen -q -t ed25519 -N "" -C "ksctl-test-client" -f "$STATE_DIR/id_ed25519"
  if [[ ! -s "$STATE_DIR/id_rsa" ]]; then
    # An RSA 3072 key takes seconds to make on a busy host: one per state root is kept (private to root) and copied
    # into each prefix's state, which "stop" removes.
    local cache="$STATE_ROOT/.rsa-client-key"
    if [[ ! -s "$cache/id_rsa" || ! -s "$cache/id_rsa.pub" ]]; then
      mkdir -p "$cache" && chmod 700 "$cache"
      rm -f "$cache/id_rsa.$$" "$cache/id_rsa.$$.pub"
      ssh-keygen -q -t rsa -b 3072 -m PEM -N "" -C "ksctl-test-client-rsa" -f "$cache/id_rsa.$$"
      mv -f "$cache/id_rsa.$$.pub" "$cache/id_rsa.pub" && mv -f "$cache/id_rsa.$$" "$cache/id_rsa"
    fi
    install -m 0600 "$cache/id_rsa" "$STATE_DIR/id_rsa"
    install -m 0644 "$cache/id_rsa.pub" "$STATE_DIR/id_rsa.pub"
  fi
  cat "$STATE_DIR/id_ed25519.pub" "$STATE_DIR/id_rsa.pub" >"$STATE_DIR/authorized_keys"
  chmod 600 "$STATE_DIR/authorized_keys"
}

ensure_host_key() {
  local dir="$1"
  mkdir -p "$dir"
  [[ -s "$dir/ssh_host_ed25519_key" ]] || ssh-keygen -q -t ed25519 -N "" -C "ksctl-test-host" -f "$dir/ssh_host_ed25519_key"
}

write_sshd_config() {
  local i="$1" dir
  dir=$(machine_dir "$i")
  local host_key="$dir/ssh_host_ed25519_key"
  [[ -s "$dir/ssh_host_adopted_key" ]] && host_key="$dir/ssh_host_adopted_key"
  cat >"$dir/sshd_config" <<EOF
Port 22
ListenAddress 0.0.0.0
HostKey $host_key
AuthorizedKeysFile $STATE_DIR/authorized_keys $dir/authorized_keys .ssh/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile $dir/sshd.pid
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 50
LoginGraceTime 30
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel ${KSCTL_TESTMACHINES_SSHD_LOGLEVEL:-INFO}
EOF
}

# ---- network ------------------------------------------------------------------------------
ensure_bridge() {
  local br
  br=$(bridge_name)
  if ! ip link show "$br" >/dev/null 2>&1; then
    ip link add "$br" type bridge
  fi
  if ! ip -4 addr show dev "$br" | grep -q "inet $SUBNET.1/24"; then
    if ip -4 route show | grep -v "dev $br" | grep -q "^$SUBNET\.0/24"; then
      die "subnet $SUBNET.0/24 is already routed elsewhere; pick another with --subnet"
    fi
    ip addr add "$SUBNET.1/24" dev "$br"
  fi
  ip link set "$br" up
  # Bridged traffic between machines must not be dropped by the host's iptables FORWARD
  # policy (e.g. Docker's) when br_netfilter is loaded.
  if command -v iptables >/dev/null 2>&1 && iptables -w -S FORWARD >/dev/null 2>&1; then
    iptables -w -C FORWARD -i "$br" -o "$br" -j ACCEPT 2>/dev/null || iptables -w -I FORWARD -i "$br" -o "$br" -j ACCEPT
  fi
}

# The private segment: a bridge with no host address (the host cannot reach it, nothing is routed to or from it).
ensure_private_bridge() {
  local br
  br=$(private_bridge_name)
  ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge
  ip addr flush dev "$br"
  ip link set "$br" up
  if command -v iptables >/dev/null 2>&1 && iptables -w -S FORWARD >/dev/null 2>&1; then
    iptables -w -C FORWARD -i "$br" -o "$br" -j ACCEPT 2>/dev/null || iptables -w -I FORWARD -i "$br" -o "$br" -j ACCEPT
  fi
}

# eth1 on the private bridge, holding exactly the machine's private address.
ensure_private_link() {
  local i="$1" ns veth cidr
  ns=$(netns_name "$i"); veth=$(private_veth_name "$i"); cidr=$(machine_private_cidr "$i")
  if ! ip netns exec "$ns" ip link show eth1 >/dev/null 2>&1; then
    ip link del "$veth" 2>/dev/null || true
    ip link add "$veth" type veth peer name eth1 netns "$ns"
  fi
  ip link set "$veth" master "$(private_bridge_name)" up
  ip netns exec "$ns" ip link set eth1 up
  if ! ip netns exec "$ns" ip -4 -o addr show dev eth1 | awk '{print $4}' | grep -qx "$cidr"; then
    ip netns exec "$ns" ip addr flush dev eth1
    ip netns exec "$ns" ip addr add "$cidr" dev eth1
  fi
}

ensure_netns() {
  local i="$1" ns veth addr br
  ns=$(netns_name "$i"); veth=$(veth_name "$i"); addr=$(machine_addr "$i"); br=$(bridge_name)
  ip netns list | awk '{print $1}' | grep -qx "$ns" || ip netns add "$ns"
  if ! ip netns exec "$ns" ip link show eth0 >/dev/null 2>&1; then
    ip link del "$veth" 2>/dev/null || true
    ip link add "$veth" type veth peer name eth0 netns "$ns"
  fi
  ip link set "$veth" master "$br" up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip link set eth0 up
  ip netns exec "$ns" sh -c "ip -4 addr show dev eth0 | grep -q 'inet $addr/24' || ip addr add $addr/24 dev eth0"
  ip netns exec "$ns" sh -c "ip route show default | grep -q . || ip route add default via $SUBNET.1"
  ensure_private_link "$i"
}

# ---- the machine: a holder process owning the mount namespace, and sshd inside it ---------
holder_alive() {
  local dir pid
  dir=$(machine_dir "$1")
  pid=$(read_pid "$dir/holder.pid")
  pid_alive "$pid" && [[ -e "$dir/holder.ready" ]]
}

# Private account files for a machine: the host's, plus the sudo user (passwordless sudo) when one is asked for.
write_account_files() {
  local i="$1" dir user
  dir=$(machine_dir "$i")
  rm -rf "${dir:?}/etc"
  [[ -s "$STATE_DIR/sudo-user" ]] || return 0
  user=$(<"$STATE_DIR/sudo-user")
  mkdir -p "$dir/etc/sudoers.d"
  cp /etc/passwd "$dir/etc/passwd"; cp /etc/group "$dir/etc/group"; cp /etc/shadow "$dir/etc/shadow"
  echo "$user:x:$SUDO_UID:$SUDO_UID:ksctl test user:/var/lib/ksctl/home/$user:/bin/bash" >>"$dir/etc/passwd"
  echo "$user:x:$SUDO_UID:" >>"$dir/etc/group"
  echo "$user:*:19000:0:99999:7:::" >>"$dir/etc/shadow"
  chmod 0640 "$dir/etc/shadow"
  echo "$user ALL=(ALL:ALL) NOPASSWD: ALL" >"$dir/etc/sudoers.d/ksctl-test"
  chmod 0440 "$dir/etc/sudoers.d/ksctl-test"
}

ensure_holder() {
  local i="$1" ns dir user=""
  ns=$(netns_name "$i"); dir=$(machine_dir "$i")
  if holder_alive "$i"; then return 0; fi
  kill_pidfile "$dir/sshd.pid"
  kill_pidfile "$dir/holder.pid"
  rm -f "$dir/holder.ready"
  write_account_files "$i"
  if [[ -s "$STATE_DIR/sudo-user" ]]; then user=$(<"$STATE_DIR/sudo-user"); fi
  # The holder keeps the private mount namespace alive while sshd is stopped and started again.
  # shellcheck disable=SC2016 # expanded by the inner shell
  # Its own hostname too (UTS namespace): a machine's hostname is its Kubernetes Node name.
  setsid ip netns exec "$ns" unshare --mount --uts --propagation private sh -c '
      dir="$1"; name="$2"; user="$3"; uid="$4"; shift 4
      echo $$ > "$dir/holder.pid"
      hostname "$name"
      for d in "$@"; do mkdir -p "$d" && mount -t tmpfs -o mode=0755 tmpfs "$d" || exit 1; done
      # A private /etc/fstab (node preparation comments out swap lines), and /etc/hosts naming this host (sudo looks it up).
      cp /etc/fstab "$dir/fstab" && mount --bind "$dir/fstab" /etc/fstab || exit 1
      { cat /etc/hosts; echo "127.0.1.1 $name"; } > "$dir/hosts" && mount --bind "$dir/hosts" /etc/hosts || exit 1
      if [ -n "$user" ]; then
        for f in passwd group shadow; do mount --bind "$dir/etc/$f" "/etc/$f" || exit 1; done
        mount --bind "$dir/etc/sudoers.d" /etc/sudoers.d || exit 1
        mkdir -p "/var/lib/ksctl/home/$user/.ssh"
        cp "$dir/../authorized_keys" "/var/lib/ksctl/home/$user/.ssh/authorized_keys"
        chown -R "$uid:$uid" "/var/lib/ksctl/home/$user"
      fi
      mkdir -p /run/sshd
      : > "$dir/holder.ready"
      exec sleep infinity' holder "$dir" "$ns" "$user" "$SUDO_UID" "${PRIVATE_DIRS[@]}" \
    </dev/null >"$dir/holder.log" 2>&1 &
  wait_for 10 test -e "$dir/holder.ready" || die "machine $i: namespace holder did not start: $(cat "$dir/holder.log")"
}

sshd_alive() {
  local dir pid
  dir=$(machine_dir "$1")
  pid=$(read_pid "$dir/sshd.pid")
  pid_alive "$pid"
}

start_sshd() {
  local i="$1" ns dir holder addr
  ns=$(netns_name "$i"); dir=$(machine_dir "$i"); addr=$(machine_addr "$i")
  if sshd_alive "$i" && port_open "$ns" "$addr"; then return 0; fi
  kill_pidfile "$dir/sshd.pid"
  holder=$(read_pid "$dir/holder.pid")
  "$SSHD" -t -f "$dir/sshd_config" || die "machine $i: sshd_config invalid"
  # sshd logs to sshd.log (-E); its own stderr goes to sshd.err.
  setsid nsenter --target "$holder" --mount --uts --net "$SSHD" -D -f "$dir/sshd_config" -E "$dir/sshd.log" \
    </dev/null >/dev/null 2>>"$dir/sshd.err" &
  wait_for 10 port_open "$ns" "$addr" || die "machine $i: sshd did not listen on $addr:22: $(tail -5 "$dir/sshd.log" "$dir/sshd.err" 2>/dev/null)"
}

write_machine_json() {
  local i="$1" dir sudo_user=""
  dir=$(machine_dir "$i")
  if [[ -s "$STATE_DIR/sudo-user" ]]; then sudo_user=$(<"$STATE_DIR/sudo-user"); fi
  printf '{"name":"%s","index":%d,"address":"%s","privateAddress":"%s","port":22,"user":"root","sudoUser":"%s","keyPath":"%s","rsaKeyPath":"%s","hostKey":"%s"}\n' \
    "$(netns_name "$i")" "$i" "$(machine_addr "$i")" "$(machine_private_cidr "$i" | cut -d/ -f1)" "$sudo_user" "$STATE_DIR/id_ed25519" "$STATE_DIR/id_rsa" \
    "$(host_fingerprint "$dir")" >"$dir/machine.json"
}

start_machine() {
  local i="$1"
  ensure_netns "$i"
  firewall_off "$i"
  ensure_host_key "$(machine_dir "$i")"
  write_sshd_config "$i"
  ensure_holder "$i"
  start_sshd "$i"
  write_machine_json "$i"
}

remove_machine() {
  local i="$1" dir ns
  dir=$(machine_dir "$i"); ns=$(netns_name "$i")
  # Everything started inside the machine (sshd, daemons our scripts launched) goes with it.
  if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
    local pids
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [[ -n "$pids" ]]; then
      # shellcheck disable=SC2086 # a list of pids
      kill $pids 2>/dev/null || true
      wait_for 5 bash -c "[[ -z \"\$(ip netns pids $ns 2>/dev/null)\" ]]" || {
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        # shellcheck disable=SC2086
        [[ -z "$pids" ]] || kill -9 $pids 2>/dev/null || true
      }
    fi
  fi
  if [[ -d "$dir" ]]; then
    kill_pidfile "$dir/sshd.pid"
    kill_pidfile "$dir/holder.pid"
  fi
  ip link del "$(veth_name "$i")" 2>/dev/null || true
  ip link del "$(private_veth_name "$i")" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}

# Indices of every machine of this prefix that exists in any form (state dir, netns or veth).
existing_indices() {
  {
    local d
    if [[ -d "$STATE_DIR" ]]; then
      for d in "$STATE_DIR"/m*; do [[ -d "$d" ]] && echo "${d##*/m}"; done
    fi
    ip netns list 2>/dev/null | awk '{print $1}' | sed -n "s/^${PREFIX}-m\([0-9][0-9]*\)$/\1/p"
    ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | sed -n "s/^${PREFIX}-[vp]\([0-9][0-9]*\)$/\1/p"
  } | sort -un
}

print_inventory() {
  local first=1 i f
  echo "["
  for i in $(existing_indices); do
    f="$(machine_dir "$i")/machine.json"
    [[ -s "$f" ]] || continue
    if ((first)); then first=0; else echo ","; fi
    printf '  %s' "$(<"$f")"
  done
  echo
  echo "]"
}

cmd_start() {
  local n="$1" i
  if ! [[ "$n" =~ ^[0-9]+$ ]] || ((n < 1 || n > 200)); then die "start needs a machine count 1..200"; fi
  require_root_and_tools
  mkdir -p "$STATE_DIR"
  load_subnet
  if [[ -s "$STATE_DIR/subnet" && "$(<"$STATE_DIR/subnet")" != "$SUBNET" ]]; then
    log "subnet changed: removing the machines of prefix $PREFIX first"
    cmd_stop
    mkdir -p "$STATE_DIR"
  fi
  if [[ -s "$STATE_DIR/private-subnet" && "$(<"$STATE_DIR/private-subnet")" != "$PRIVATE_SUBNET" ]]; then
    log "private subnet changed: removing the machines of prefix $PREFIX first"
    cmd_stop
    mkdir -p "$STATE_DIR"
  fi
  echo "$SUBNET" >"$STATE_DIR/subnet"
  echo "$PRIVATE_SUBNET" >"$STATE_DIR/private-subnet"
  if [[ -n "$SUDO_USER_NAME" ]]; then
    [[ "$SUDO_USER_NAME" =~ ^[a-z][a-z0-9-]{0,15}$ ]] || die "bad --sudo-user '$SUDO_USER_NAME'"
    if getent passwd "$SUDO_USER_NAME" >/dev/null || getent passwd "$SUDO_UID" >/dev/null; then
      die "user '$SUDO_USER_NAME' or uid $SUDO_UID exists on the host; pick another --sudo-user"
    fi
    command -v sudo >/dev/null 2>&1 || die "--sudo-user needs sudo (apt-get install -y sudo)"
  fi
  if [[ "$SUDO_USER_NAME" != "$(cat "$STATE_DIR/sudo-user" 2>/dev/null || true)" ]]; then
    for i in $(existing_indices); do remove_machine "$i"; done
    if [[ -n "$SUDO_USER_NAME" ]]; then echo "$SUDO_USER_NAME" >"$STATE_DIR/sudo-user"; else rm -f "$STATE_DIR/sudo-user"; fi
  fi
  for i in $(existing_indices); do
    # Above N, or adopted by an emulator run that never reset it: not a fresh machine.
    if ((i > n)) || [[ -e "$(machine_dir "$i")/ssh_host_adopted_key" ]]; then remove_machine "$i"; fi
  done
  ensure_client_keys
  ensure_bridge
  ensure_private_bridge
  # The machines start side by side (each is seconds of namespace, mount and sshd start-up, mostly waiting).
  local pids=() failed=0
  for ((i = 1; i <= n; i++)); do start_machine "$i" & pids+=("$!"); done
  for i in "${pids[@]}"; do wait "$i" || failed=1; done
  ((failed == 0)) || die "some machines did not start (see the messages above)"
  print_inventory
}

cmd_stop() {
  local i br
  require_root_and_tools
  load_subnet
  local pids=()
  for i in $(existing_indices); do remove_machine "$i" & pids+=("$!"); done
  for i in "${pids[@]}"; do wait "$i" || true; done
  br=$(bridge_name)
  if command -v iptables >/dev/null 2>&1; then
    while iptables -w -D FORWARD -i "$br" -o "$br" -j ACCEPT 2>/dev/null; do :; done
  fi
  ip link del "$br" 2>/dev/null || true
  br=$(private_bridge_name)
  if command -v iptables >/dev/null 2>&1; then
    while iptables -w -D FORWARD -i "$br" -o "$br" -j ACCEPT 2>/dev/null; do :; done
  fi
  ip link del "$br" 2>/dev/null || true
  rm -rf "$STATE_DIR"
}

# ---- firewall: an inbound nftables ruleset in the machine's own network namespace ----------
FW_TABLE="ksctl_fw"

firewall_off() {
  local ns
  ns=$(netns_name "$1")
  command -v nft >/dev/null 2>&1 || return 0
  ip netns exec "$ns" nft list table inet "$FW_TABLE" >/dev/null 2>&1 || return 0
  ip netns exec "$ns" nft delete table inet "$FW_TABLE"
}

# One rule of RULES.json as an nft statement; dies naming the rule and field that is wrong.
fw_rule() {
  local n="$1" action="$2" proto="$3" ports="$4" source="$5" match=""
  case "$action" in accept|drop) ;; *) die "firewall rule $n: action '$action' is not accept or drop" ;; esac
  if [[ "$source" != "*" && "$source" != "0.0.0.0/0" ]]; then
    if valid_ipv4 "$source"; then :
    elif valid_prefix "$source" 0 32; then :
    else die "firewall rule $n: source '$source' is not *, an IPv4 address or an IPv4 CIDR"; fi
    match="ip saddr $source "
  fi
  if [[ "$ports" != "*" ]]; then
    [[ "$ports" =~ ^([0-9]{1,5})(-([0-9]{1,5}))?$ ]] || die "firewall rule $n: ports '$ports' is not *, N or N-M"
    local lo="${BASH_REMATCH[1]}" hi="${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}"
    ((10#$lo >= 1 && 10#$hi <= 65535 && 10#$lo <= 10#$hi)) || die "firewall rule $n: ports '$ports' out of 1..65535 or reversed"
  fi
  case "$proto" in
    tcp|udp)
      match+="meta l4proto $proto "
      [[ "$ports" == "*" ]] || match+="th dport $ports " ;;
    icmp|any)
      [[ "$ports" == "*" ]] || die "firewall rule $n: protocol $proto takes no ports (want \"*\")"
      [[ "$proto" == any ]] || match+="meta l4proto icmp " ;;
    *) die "firewall rule $n: protocol '$proto' is not tcp, udp, icmp or any" ;;
  esac
  # Every drop is counted, so a test can tell "dropped by the firewall" from "no answer for another reason".
  if [[ "$action" == drop ]]; then action='counter name "dropped" drop'; fi
  echo "    ${match}$action"
}

cmd_firewall() {
  local i="$1" rules="$2" ns tmp n=0 line
  ns=$(netns_name "$i")
  command -v nft >/dev/null 2>&1 || die "firewall needs nft (apt-get install -y nftables)"
  if [[ "$rules" == "off" ]]; then firewall_off "$i"; return 0; fi
  command -v jq >/dev/null 2>&1 || die "firewall needs jq (apt-get install -y jq)"
  [[ -r "$rules" ]] || die "firewall: cannot read $rules"
  jq -e 'type == "array"' "$rules" >/dev/null 2>&1 || die "firewall: $rules is not a JSON array of rules"
  tmp="$(machine_dir "$i")/firewall.nft"
  {
    # Declaring, deleting and re-creating the table in one transaction replaces an earlier ruleset atomically.
    echo "table inet $FW_TABLE"
    echo "delete table inet $FW_TABLE"
    echo "table inet $FW_TABLE {"
    echo "  counter dropped { }"
    echo "  chain input {"
    echo "    type filter hook input priority filter; policy drop;"
    echo "    ct state established,related accept"
    echo "    ct state invalid drop"
    echo "    iif \"lo\" accept"
    while IFS=$'\t' read -r line; do
      n=$((n + 1))
      IFS=$'\t' read -r a p po so <<<"$line"
      fw_rule "$n" "$a" "$p" "$po" "$so"
    done < <(jq -r '.[] | [.action, .protocol, .ports, .source] | map(if . == null then "(missing)" else tostring end) | @tsv' "$rules")
    echo "    counter name \"dropped\" drop"
    echo "  }"
    echo "}"
  } >"$tmp"
  ip netns exec "$ns" nft -f "$tmp" || die "machine $i: nft refused the ruleset: $(cat "$tmp")"
}

cmd_firewall_dropped() {
  local ns
  ns=$(netns_name "$1")
  ip netns exec "$ns" nft list counter inet "$FW_TABLE" dropped 2>/dev/null | awk '$1 == "packets" { print $2; found = 1 } END { if (!found) print 0 }'
}

cmd_adopt() {
  local i="$1" dir private="${4:-}"
  dir=$(machine_dir "$i")
  ssh-keygen -y -f "$2" >/dev/null || die "machine $i: $2 is not a private key sshd can read"
  if [[ -n "$private" ]]; then
    valid_cidr "$private" || die "machine $i: private address '$private' is not A.B.C.D/NN (NN 8..30)"
    [[ "${private%/*}" != "$(machine_addr "$i")" ]] || die "machine $i: the private address must differ from the public one"
    echo "$private" >"$dir/private-address"
    ensure_private_link "$i"
  fi
  install -m 0600 "$2" "$dir/ssh_host_adopted_key"
  # sshd reads it as the logging-in user: public keys, world-readable like any authorized_keys.
  install -m 0644 "$3" "$dir/authorized_keys"
  # The state directory is private to root: a non-root login reads its keys from its own home, like cloud-init writes them.
  if [[ -s "$STATE_DIR/sudo-user" ]]; then
    local user
    user=$(<"$STATE_DIR/sudo-user")
    # shellcheck disable=SC2016 # expanded by the inner shell
    nsenter --target "$(read_pid "$dir/holder.pid")" --mount \
      sh -c 'cat >> "$1" && chown "$2:$2" "$1"' adopt "/var/lib/ksctl/home/$user/.ssh/authorized_keys" "$SUDO_UID" <"$3"
  fi
  write_sshd_config "$i"
  kill_pidfile "$dir/sshd.pid"
  start_sshd "$i"
  write_machine_json "$i"
  cat "$dir/machine.json"
}

cmd_reset() {
  local i="$1" dir
  dir=$(machine_dir "$i")
  # Everything in the namespace goes (sshd, daemons, the holder with its private tmpfs directories).
  local pids
  pids=$(ip netns pids "$(netns_name "$i")" 2>/dev/null || true)
  # shellcheck disable=SC2086 # a list of pids
  [[ -z "$pids" ]] || kill -9 $pids 2>/dev/null || true
  kill_pidfile "$dir/sshd.pid"
  kill_pidfile "$dir/holder.pid"
  rm -f "$dir/ssh_host_adopted_key" "$dir/authorized_keys" "$dir/holder.ready" "$dir/private-address"
  start_machine "$i"
  cat "$dir/machine.json"
}

machine_index_arg() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] || die "expected a machine index"
  [[ -d "$(machine_dir "$1")" ]] || die "machine $1 of prefix $PREFIX does not exist"
}

main() {
  (($# >= 1)) || usage
  local cmd="$1"; shift
  local args=()
  while (($#)); do
    case "$1" in
      --prefix) PREFIX="${2:?--prefix needs a value}"; shift 2 ;;
      --subnet) SUBNET="${2:?--subnet needs a value}"; shift 2 ;;
      --private-subnet) PRIVATE_SUBNET="${2:?--private-subnet needs a value}"; shift 2 ;;
      --sudo-user) SUDO_USER_NAME="${2:?--sudo-user needs a value}"; shift 2 ;;
      --state-dir) STATE_ROOT="${2:?--state-dir needs a value}"; shift 2 ;;
      -h|--help) usage ;;
      *) args+=("$1"); shift ;;
    esac
  done
  [[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,7}$ ]] || die "--prefix must be 1-8 lowercase letters/digits starting with a letter"
  STATE_DIR="$STATE_ROOT/$PREFIX"
  case "$cmd" in
    start) cmd_start "${args[0]:-}" ;;
    inventory) load_subnet; print_inventory ;;
    stop|cleanup) cmd_stop ;;
    stop-machine)
      require_root_and_tools; load_subnet; machine_index_arg "${args[0]:-}"
      kill_pidfile "$(machine_dir "${args[0]}")/sshd.pid" ;;
    start-machine)
      require_root_and_tools; load_subnet; machine_index_arg "${args[0]:-}"
      ensure_netns "${args[0]}"; ensure_holder "${args[0]}"; start_sshd "${args[0]}" ;;
    adopt)
      require_root_and_tools; load_subnet; machine_index_arg "${args[0]:-}"
      cmd_adopt "${args[0]}" "${args[1]:?adopt needs a host key file}" "${args[2]:?adopt needs an authorized keys file}" "${args[3]:-}" ;;
    firewall)
      require_root_and_tools; load_subnet; machine_index_arg "${args[0]:-}"
      cmd_firewall "${args[0]}" "${args[1]:?firewall needs a rules file (or off)}" ;;
    firewall-dropped)
      require_root_and_tools; load_subnet; machine_index_arg "${args[0]:-}"
      cmd_firewall_dropped "${args[0]}" ;;
    reset)
      require_root_and_tools; load_subnet; machine_index_arg "${args[0]:-}"
      cmd_reset "${args[0]}" ;;
    *) usage ;;
  esac
}

main "$@"
