#!/bin/sh
# wxprov-cron JOB [OPTION...]: the nightly run for cron, with an alert per exit code.
#
# Runs `wxprov run JOB OPTION...` and turns its exit code (docs/guide.en.md, "Exit codes")
# into one line on stderr and, when someone has to act, one alert:
#   0        ok       nothing needs a person                       (no alert)
#   1        urgent   the run could not proceed                    (alert)
#   2        urgent   the job file or the sheet's header is wrong  (alert)
#   3        action   some rows need a person: failed.csv          (alert)
#   4        info     some rows were deferred; the next run goes on (no alert)
#   5        warning  another run holds the ledger                 (alert)
#   130/143  warning  interrupted (SIGINT/SIGTERM)                 (alert)
#   other    urgent   wxprov ended unexpectedly                    (alert)
#
# Environment:
#   ENV_FILE       KEY=value lines with the WXPROV_* secrets, read when present
#                  [default: /etc/wxprov/wxprov.env, the file the systemd unit reads too]
#   ALERT_COMMAND  run as `ALERT_COMMAND LEVEL CODE MESSAGE` for each alert (a script that
#                  posts to your chat robot or pager); without it the line on stderr is all
#
# The script exits with wxprov's own exit code. It stays alive through SIGINT/SIGTERM sent
# to its process group so that it can report the interrupted run: wxprov gets the signal
# too, lets the calls in flight finish, writes its reports and exits 130/143.
# Install: install -m 0755 examples/wxprov-cron.sh /usr/local/bin/wxprov-cron

set -u

if [ $# -lt 1 ]; then
    echo "usage: wxprov-cron JOB [OPTION...]" >&2
    exit 2
fi
job=$1
shift

env_file=${ENV_FILE:-/etc/wxprov/wxprov.env}
if [ -r "$env_file" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$env_file"
    set +a
fi

# A handler (not an ignore: wxprov must still receive the signal) keeps this shell alive.
trap ':' INT TERM

wxprov run "$job" "$@"
code=$?

case $code in
    0) level=ok; message="nothing needs a person / 无需人工处理" ;;
    1) level=urgent; message="the run could not proceed (credentials, IP whitelist, ledger or report folder): read the error in the log and summary.json / 运行未能进行：检查凭据、IP 白名单、账本或报告目录" ;;
    2) level=urgent; message="usage: the job file, an option or the sheet's columns are wrong; nothing was sent / 用法错误：任务文件、参数或表格列有误，未发出任何调用" ;;
    3) level=action; message="some rows need a person: fix them in REPORT_DIR/latest/failed.csv and run its failed.toml / 有行需要人工处理：修改 failed.csv 后运行 failed.toml" ;;
    4) level=info; message="some rows were deferred by a quota; the next run continues / 部分行因配额延后，下次运行继续" ;;
    5) level=warning; message="another run holds the ledger; this one did nothing / 另一个运行正在使用账本，本次未执行" ;;
    130 | 143) level=warning; message="interrupted; the reports say so and the next run continues / 运行被中断，下次运行继续" ;;
    *) level=urgent; message="wxprov ended with an unexpected exit code / wxprov 异常退出" ;;
esac

echo "wxprov-cron: $job: exit $code $level: $message" >&2
case $level in
    ok | info) ;;
    *)
        if [ -n "${ALERT_COMMAND:-}" ]; then
            "$ALERT_COMMAND" "$level" "$code" "$job: $message" || echo "wxprov-cron: ALERT_COMMAND failed" >&2
        fi
        ;;
esac
exit "$code"
