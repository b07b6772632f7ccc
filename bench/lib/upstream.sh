# Shared by bench/policy and bench/observe (sourced): the cheap upstream both measure turnout
# against, and the request both send, so that their figures stay comparable.

# start_nginx_upstream RUN_DIR CPU PORT...: one nginx worker (no master), pinned to CPU,
# answering a fixed 200 "hello PORT" (same length on every port) on each loopback PORT;
# keep-alive without limit, no access log. Sets NGINX_PID.
start_nginx_upstream() {
  local run=$1 cpu=$2 listens="" port
  shift 2
  for port in "$@"; do listens+="    listen 127.0.0.1:$port;"$'\n'; done
  mkdir -p "$run/nginx-tmp"
  cat >"$run/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $run/nginx.pid;
error_log $run/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $run/nginx-tmp;
  proxy_temp_path $run/nginx-tmp;
  fastcgi_temp_path $run/nginx-tmp;
  uwsgi_temp_path $run/nginx-tmp;
  scgi_temp_path $run/nginx-tmp;
  server {
$listens    location / { default_type text/plain; return 200 "hello \$server_port\n"; }
  }
}
CONF
  taskset -c "$cpu" nginx -p "$run" -e "$run/nginx-error.log" -c "$run/nginx.conf" &
  NGINX_PID=$!
}

# 8 request headers with Host (wrk adds it) and the Cookie each script chooses: what a browser
# sends, none of the policy bench's selector or fault triggers.
COMMON_HEADERS=(-H "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
  -H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
  -H "Accept-Language: en-US,en;q=0.5" -H "Accept-Encoding: gzip, deflate, br"
  -H "X-Request-Id: 4f8a1c2e-9b3d-4e5f-8a7b-6c5d4e3f2a1b" -H "Connection: keep-alive")

cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }  # PID -> utime stime (clock ticks)
