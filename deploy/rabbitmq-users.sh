#!/usr/bin/env bash
# One RabbitMQ user per messaging component, allowed only what that component needs: the regexes of
# deploy/rabbitmq-permissions.tsv (generated from what each component registers; the deployment tests
# check it). Idempotent: creates a missing user, sets its password, takes any tags away (no
# administrator) and sets its permissions in the virtual host. Components then connect as it
# (${RABBITMQ_USER:name} and ${RABBITMQ_PASSWORD:name} in deploy/components.ini).
#
#   deploy/rabbitmq-users.sh [--vhost V] [--passwords DIR] [component[=user] ...]
#
#   --vhost V        the virtual host to grant in (default /)
#   --passwords DIR  where the passwords live, DIR/<component>.password; a missing one is generated
#                    (owner-only file and directory). `./mesh up --real` uses .mesh/data/rabbitmq.
#   component=user   only these components (default: every one in the table), optionally under
#                    another user name than ketenmesh-<component> (the tests use one per test)
#   KETENMESH_RABBITMQ_<COMPONENT>_PASSWORD  a password from the environment instead (compose); it wins over DIR
#   RABBITMQCTL      how to run rabbitmqctl, e.g. "kubectl exec -i rabbitmq-0 -- rabbitmqctl" or
#                    "docker compose exec -T rabbitmq rabbitmqctl" (passwords go over stdin, never argv)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TABLE="$HERE/rabbitmq-permissions.tsv"
export PATH="$PATH:/usr/sbin:/usr/lib/rabbitmq/bin"
read -r -a CTL <<<"${RABBITMQCTL:-rabbitmqctl}"

die() { echo "rabbitmq-users: $*" >&2; exit 1; }

vhost="/"
passwords=""
declare -A wanted=()
while [ $# -gt 0 ]; do
  case "$1" in
    --vhost) vhost="${2:?--vhost needs a value}"; shift 2 ;;
    --passwords) passwords="${2:?--passwords needs a directory}"; shift 2 ;;
    -*) die "unknown option $1" ;;
    *=*) wanted["${1%%=*}"]="${1#*=}"; shift ;;
    *) wanted["$1"]="ketenmesh-$1"; shift ;;
  esac
done
[ -r "$TABLE" ] || die "no permission table at $TABLE"

password_of() {
  local component="$1" variable
  variable="KETENMESH_RABBITMQ_$(echo "$component" | tr 'a-z-' 'A-Z_')_PASSWORD"
  if [ -n "${!variable:-}" ]; then
    printf '%s' "${!variable}"
    return
  fi
  [ -n "$passwords" ] || die "no password for $component: set $variable or pass --passwords DIR"
  local file="$passwords/$component.password"
  if [ ! -s "$file" ]; then
    (umask 077 && mkdir -p "$passwords" && chmod 700 "$passwords" \
      && LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 >"$file")
  fi
  cat "$file"
}

existing="$("${CTL[@]}" -q list_users --no-table-headers | awk '{print $1}')"
declare -A seen=()
# The table on fd 3: rabbitmqctl reads stdin, which would swallow the rest of it.
while IFS=$'\t' read -r -u 3 component configure write read; do
  case "$component" in ''|'#'*) continue ;; esac
  if [ ${#wanted[@]} -gt 0 ]; then
    [ -n "${wanted[$component]+x}" ] || continue
    user="${wanted[$component]}"
  else
    user="ketenmesh-$component"
  fi
  seen["$component"]=1
  password="$(password_of "$component")"
  if ! grep -qxF -- "$user" <<<"$existing"; then
    printf '%s' "$password" | "${CTL[@]}" -q add_user "$user" >/dev/null
  fi
  printf '%s' "$password" | "${CTL[@]}" -q change_password "$user" >/dev/null
  "${CTL[@]}" -q set_user_tags "$user" </dev/null >/dev/null
  "${CTL[@]}" -q set_permissions -p "$vhost" "$user" "$configure" "$write" "$read" </dev/null >/dev/null
  echo "rabbitmq-users: $user has $component's permissions in $vhost" >&2
done 3<"$TABLE"

for component in "${!wanted[@]}"; do
  [ -n "${seen[$component]+x}" ] || die "$component is not in $TABLE (it has no bus)"
done
