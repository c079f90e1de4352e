#!/usr/bin/env bash
# Brings up a RabbitMQ broker on loopback for the integration tests and prints the variable the
# tests read. Safe to run repeatedly: every step checks before it acts. Runs as root on a fresh
# Debian machine (no systemd, so the broker is started detached instead of through a unit).
set -euo pipefail

TIMEOUT="${KETENMESH_INFRA_TIMEOUT:-90}"
USER_NAME="${KETENMESH_RABBITMQ_USER:-ketenmesh}"
USER_PASSWORD="${KETENMESH_RABBITMQ_PASSWORD:-ketenmesh}"
PORT="${KETENMESH_RABBITMQ_PORT:-5672}"
export PATH="$PATH:/usr/sbin:/usr/lib/rabbitmq/bin"

# The Debian wrapper switches to the rabbitmq user with plain `su`, which keeps these variables;
# they keep AMQP, epmd and Erlang distribution off every interface but loopback. Exported before the
# first rabbitmq command because even a ping starts epmd.
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$PORT"
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

log() { echo "start-rabbitmq: $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "rabbitmq-server is not installed and installing it needs root"
  log "installing rabbitmq-server (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq rabbitmq-server >&2 || fail "apt-get install rabbitmq-server failed"
fi

# A short ping: the default waits a full minute when the node is down.
is_up() { rabbitmq-diagnostics -q ping --timeout 5 >/dev/null 2>&1; }

if is_up; then
  log "broker already running"
else
  log "starting broker on 127.0.0.1:${PORT}"
  rabbitmq-server -detached >&2 || fail "rabbitmq-server -detached failed (see /var/log/rabbitmq/)"
  deadline=$((SECONDS + TIMEOUT))
  until is_up; do
    [ "$SECONDS" -lt "$deadline" ] || fail "broker did not answer a ping within ${TIMEOUT}s (see /var/log/rabbitmq/)"
    sleep 1
  done
  # ping answers before the app finishes booting; user commands need the app running.
  rabbitmqctl -q await_startup --timeout "$TIMEOUT" >&2 || fail "broker did not finish booting within ${TIMEOUT}s"
  log "broker is up"
fi

# Tests create one virtual host each and close connections per vhost, so the user is an administrator.
if ! rabbitmqctl -q list_users | awk '{print $1}' | grep -qx "$USER_NAME"; then
  rabbitmqctl -q add_user "$USER_NAME" "$USER_PASSWORD" >&2
fi
rabbitmqctl -q change_password "$USER_NAME" "$USER_PASSWORD" >&2
rabbitmqctl -q set_user_tags "$USER_NAME" administrator >&2
rabbitmqctl -q set_permissions -p / "$USER_NAME" ".*" ".*" ".*" >&2

echo "export KETENMESH_TEST_RABBITMQ=amqp://${USER_NAME}:${USER_PASSWORD}@127.0.0.1:${PORT}/"
