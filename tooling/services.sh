#!/usr/bin/env bash
# Makes sure the local services the integration tests talk to are up; starts any that is down and
# fails loudly when one cannot be started. Tests never skip a missing service: they fail.
# Elsewhere (a laptop, another CI), run the same services however you like and point the tests at
# them with the variables in README.md.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_up() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do up "$port" && return 0; sleep 0.5; done
  echo "services: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

ensure() {
  local name=$1 port=$2; shift 2
  if up "$port"; then echo "services: $name is up on $port"; return 0; fi
  echo "services: starting $name"
  "$@" >/dev/null 2>&1 || true
  wait_up "$name" "$port" && echo "services: $name started on $port"
}

status=0
ensure postgresql 5432 bash -c 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' || status=1
ensure redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || status=1
ensure rabbitmq 5672 rabbitmq-server -detached || status=1
ensure mosquitto 1883 mosquitto -d -c /etc/mosquitto/mosquitto.conf || status=1
ensure nats 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || status=1
ensure mariadb 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || status=1
exit $status
