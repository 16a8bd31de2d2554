#!/usr/bin/env bash
# systemctl-shim.sh - a tiny systemctl for test machines, which have no systemd.
#
# Install it as /usr/local/bin/systemctl inside a test machine (its private /usr/local/bin). It really
# reads unit files where systemd looks for them (/etc/systemd/system, then /lib and /usr/lib): ExecStart=
# (backslash continuation lines joined, a leading "-" or "@" ignored, $VAR and ${VAR} expanded),
# Environment= (KEY=VALUE words, double-quoted or not), EnvironmentFile= (a leading "-" makes it
# optional), WorkingDirectory=; it starts ExecStart in the background in its own session and tracks
# its pid. ExecStart arguments are split on blanks (no quoting), as in the units we run.
#
# Supported: daemon-reload, enable [--now], disable [--now], start, stop, restart, try-restart,
# is-active [--quiet], is-enabled, status, show -p MainPID. Options --no-block, --no-pager, -q are
# accepted. Process output goes to /var/log/ksctl/<unit>.log.

set -euo pipefail

UNIT_PATH="${SYSTEMCTL_SHIM_UNIT_PATH:-/etc/systemd/system:/run/systemd/system:/lib/systemd/system:/usr/lib/systemd/system}"
STATE_DIR="${SYSTEMCTL_SHIM_STATE_DIR:-/run/ksctl/systemctl}"
LOG_DIR="${SYSTEMCTL_SHIM_LOG_DIR:-/var/log/ksctl}"
QUIET=0
NOW=0

die() { echo "systemctl-shim: $*" >&2; exit 1; }

unit_name() {
  local u="$1"
  [[ "$u" == *.* ]] || u="$u.service"
  echo "$u"
}

# The first unit file found along the search path (the first candidate when there is none).
unit_file() {
  local name dir first=""
  name=$(unit_name "$1")
  local IFS=:
  for dir in $UNIT_PATH; do
    [[ -n "$first" ]] || first="$dir/$name"
    if [[ -f "$dir/$name" ]]; then echo "$dir/$name"; return 0; fi
  done
  echo "$first"
}

declare -A UNIT_ENV=()

# Environment=A=b "C=d e": words split like systemd does (double quotes group), no shell evaluation.
load_environment_line() {
  local word
  while IFS= read -r word; do
    [[ "$word" == *=* ]] && UNIT_ENV["${word%%=*}"]="${word#*=}"
  done < <(xargs -n1 printf '%s\n' <<<"$1")
}

load_environment_file() {
  local path="$1" line key value
  if [[ "$path" == -* ]]; then path="${path#-}"; [[ -f "$path" ]] || return 0; fi
  [[ -f "$path" ]] || die "EnvironmentFile $path not found"
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key="${BASH_REMATCH[1]}"; value="${BASH_REMATCH[2]}"
    value="${value#\"}"; value="${value%\"}"
    UNIT_ENV["$key"]="$value"
  done <"$path"
}

# ExecStart words with $VAR (a whole word: split into words, dropped when empty) and ${VAR} expanded.
expand_words() {
  local word name
  for word in "$@"; do
    if [[ "$word" =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
      local -a parts=()
      read -r -a parts <<<"${UNIT_ENV[${BASH_REMATCH[1]}]:-}"
      ((${#parts[@]} == 0)) || printf '%s\n' "${parts[@]}"
      continue
    fi
    while [[ "$word" =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
      name="${BASH_REMATCH[1]}"
      word="${word//\$\{$name\}/${UNIT_ENV[$name]:-}}"
    done
    printf '%s\n' "$word"
  done
}
pid_file() { echo "$STATE_DIR/$(unit_name "$1").pid"; }

# Values of KEY= in the [Service] section, one per line, continuation lines joined.
service_values() {
  local file="$1" key="$2"
  awk -v key="$key" '
    line == "" && /^[[:space:]]*\[/ { sect = $0; gsub(/[[:space:]]/, "", sect); next }
    line == "" && /^[[:space:]]*[#;]/ { next }
    {
      cur = $0
      if (cur ~ /\\[[:space:]]*$/) { sub(/\\[[:space:]]*$/, "", cur); line = line cur " "; next }
      line = line cur
      sub(/^[[:space:]]+/, "", line)
      if (sect == "[Service]" && index(line, key "=") == 1) print substr(line, length(key) + 2)
      line = ""
    }' "$file"
}

main_pid() {
  local f pid
  f=$(pid_file "$1")
  [[ -s "$f" ]] || return 1
  pid=$(<"$f")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

is_active() { main_pid "$1" >/dev/null; }

# Poll with a growing interval until the condition holds or the timeout passes.
wait_until() {
  local timeout_s="$1"; shift
  local deadline=$((SECONDS + timeout_s)) delay=0.02
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep "$delay"
    delay=$(awk -v d="$delay" 'BEGIN { d = d * 2; if (d > 0.5) d = 0.5; print d }')
  done
}

not_active() { ! is_active "$1"; }

do_start() {
  local unit="$1" file exec workdir line
  file=$(unit_file "$unit")
  [[ -f "$file" ]] || die "Unit $(unit_name "$unit") not found."
  if is_active "$unit"; then return 0; fi
  exec=$(service_values "$file" ExecStart | tail -n 1)
  [[ -n "$exec" ]] || die "Unit $(unit_name "$unit") has no ExecStart."
  exec="${exec#[-@]}"
  UNIT_ENV=()
  while IFS= read -r line; do load_environment_file "$line"; done < <(service_values "$file" EnvironmentFile)
  while IFS= read -r line; do load_environment_line "$line"; done < <(service_values "$file" Environment)
  local -a words argv envs=()
  read -r -a words <<<"$exec"
  mapfile -t argv < <(expand_words "${words[@]}")
  local key
  for key in "${!UNIT_ENV[@]}"; do envs+=("$key=${UNIT_ENV[$key]}"); done
  workdir=$(service_values "$file" WorkingDirectory | tail -n 1)
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  (
    cd "${workdir:-/}"
    # Its own session: it outlives the SSH session that started it, like a real service.
    exec setsid env "${envs[@]}" "${argv[@]}" </dev/null >>"$LOG_DIR/$(unit_name "$unit").log" 2>&1
  ) &
  echo "$!" >"$(pid_file "$unit")"
}

do_stop() {
  local unit="$1" pid
  pid=$(main_pid "$unit") || { rm -f "$(pid_file "$unit")"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until 10 not_active "$unit"; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait_until 5 not_active "$unit" || die "could not stop $(unit_name "$unit") (pid $pid)"
  rm -f "$(pid_file "$unit")"
}

main() {
  local -a args=()
  local a
  for a in "$@"; do
    case "$a" in
      --quiet|-q) QUIET=1 ;;
      --now) NOW=1 ;;
      --no-block|--no-pager|--system|--full|-l) ;;
      *) args+=("$a") ;;
    esac
  done
  ((${#args[@]} >= 1)) || die "no command"
  local cmd="${args[0]}" u
  local -a units=("${args[@]:1}")
  case "$cmd" in
    daemon-reload) ;;
    enable)
      mkdir -p "$STATE_DIR"
      for u in "${units[@]}"; do
        [[ -f "$(unit_file "$u")" ]] || die "Unit $(unit_name "$u") not found."
        : >"$STATE_DIR/$(unit_name "$u").enabled"
        if ((NOW)); then do_start "$u"; fi
      done ;;
    disable)
      for u in "${units[@]}"; do
        rm -f "$STATE_DIR/$(unit_name "$u").enabled"
        if ((NOW)); then do_stop "$u"; fi
      done ;;
    is-enabled)
      for u in "${units[@]}"; do
        if [[ -e "$STATE_DIR/$(unit_name "$u").enabled" ]]; then ((QUIET)) || echo enabled
        else ((QUIET)) || echo disabled; exit 1; fi
      done ;;
    start) for u in "${units[@]}"; do do_start "$u"; done ;;
    stop) for u in "${units[@]}"; do do_stop "$u"; done ;;
    restart) for u in "${units[@]}"; do do_stop "$u"; do_start "$u"; done ;;
    try-restart) for u in "${units[@]}"; do if is_active "$u"; then do_stop "$u"; do_start "$u"; fi; done ;;
    is-active)
      local rc=0
      for u in "${units[@]}"; do
        if is_active "$u"; then ((QUIET)) || echo active; else ((QUIET)) || echo inactive; rc=3; fi
      done
      exit "$rc" ;;
    status)
      for u in "${units[@]}"; do
        local pid
        if pid=$(main_pid "$u"); then
          echo "$(unit_name "$u") - active (running), Main PID: $pid"
        else
          echo "$(unit_name "$u") - inactive (dead)"
          tail -n 10 "$LOG_DIR/$(unit_name "$u").log" 2>/dev/null || true
          exit 3
        fi
        tail -n 10 "$LOG_DIR/$(unit_name "$u").log" 2>/dev/null || true
      done ;;
    show)
      for u in "${units[@]}"; do
        [[ "$u" == "-p" || "$u" == "MainPID" || "$u" == "--property=MainPID" ]] && continue
        echo "MainPID=$(main_pid "$u" || echo 0)"
      done ;;
    *) die "unsupported command '$cmd'" ;;
  esac
}

main "$@"
