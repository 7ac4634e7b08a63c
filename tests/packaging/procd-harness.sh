#!/bin/sh
# Stand-in for OpenWrt's /etc/rc.common + /lib/functions/procd.sh, to run a
# USE_PROCD init script off-target and see what it would tell procd.
#
#   procd-harness.sh INITSCRIPT ACTION [ARGS...]
#
# The dispatch follows rc.common (start -> procd_open_service NAME SCRIPT;
# start_service; procd_close_service, which runs service_triggers; reload ->
# reload_service if defined, else start; stop -> stop_service; procd_kill;
# enable/disable -> /etc/rc.d/S??NAME, K??NAME symlinks under IPKG_INSTROOT).
# Instead of building ubus JSON, every procd_* call appends one line to
# $PROCD_LOG, with each argument in [brackets] so argv boundaries show:
#   service.open v6routerd /etc/init.d/v6routerd
#   instance.open instance1
#   param command [/usr/sbin/v6routerd] [-c] [/etc/v6router.toml]
#   instance.close
#   trigger config.change package=network run [/etc/init.d/v6routerd] [reload] delay=1000
#   service.close set
#   signal service=v6routerd instance=* signal=1
# The expansions mirror procd.sh: an empty `respawn` gets 3600 5 5 at
# close, a reload trigger becomes a config.change rule running
# "/etc/init.d/NAME reload" after PROCD_RELOAD_DELAY ms, a signal name is
# turned into its number with `kill -l`.
#
# Environment: PROCD_LOG (required), IPKG_INSTROOT (for enable/disable),
# PROG_OVERRIDE / CONF_OVERRIDE: replace the script's PROG / CONF after it
# is sourced (to run `reload` against a staged binary and config).

initscript=$1
action=${2:-help}
shift 2 2>/dev/null || shift $#

: "${PROCD_LOG:?PROCD_LOG must name the log file}"
PROCD_RELOAD_DELAY=1000
name=$(basename "$initscript")

_log() { printf '%s\n' "$*" >>"$PROCD_LOG"; }
_args() {
	_out=
	for _a in "$@"; do _out="$_out [$_a]"; done
	printf '%s' "$_out"
}

# rc.common's defaults for procd scripts.
start_service() { return 0; }
stop_service() { return 0; }
service_triggers() { return 0; }
service_running() { return 0; }

# procd.sh, recording instead of calling ubus.
procd_lock() { :; }
procd_open_service() {
	_seq=0
	_log "service.open $1 $2"
}
procd_close_service() {
	service_triggers
	_log "service.close ${1:-set}"
}
procd_open_instance() {
	_seq=$((_seq + 1))
	_respawn_empty=
	_log "instance.open ${1:-instance$_seq}"
}
procd_set_param() {
	_type=$1
	shift
	case $_type in
	respawn) [ $# -eq 0 ] && _respawn_empty=1 ;;
	reload_signal) set -- "$(kill -l "$1")" ;;
	esac
	_log "param $_type$(_args "$@")"
}
procd_append_param() {
	_type=$1
	shift
	_log "param+ $_type$(_args "$@")"
}
procd_close_instance() {
	[ -n "$_respawn_empty" ] && _log "param respawn [3600] [5] [5]"
	_log "instance.close"
}
procd_add_reload_trigger() {
	for _cfg in "$@"; do
		_log "trigger config.change package=$_cfg run [/etc/init.d/$name] [reload] delay=$PROCD_RELOAD_DELAY"
	done
}
procd_add_interface_trigger() {
	_ev=$1
	_if=$2
	shift 2
	_log "trigger $_ev interface=$_if run$(_args "$@") delay=$PROCD_RELOAD_DELAY"
}
procd_add_reload_interface_trigger() {
	procd_add_interface_trigger "interface.*" "$1" "/etc/init.d/$name" reload
}
procd_open_trigger() { :; }
procd_close_trigger() { :; }
procd_send_signal() {
	_sig=$3
	case $_sig in
	[A-Z]*) _sig=$(kill -l "$_sig" 2>/dev/null) || return 1 ;;
	esac
	_log "signal service=$1 instance=${2:-*} signal=${_sig:-default}"
}
procd_kill() { _log "kill service=$1 instance=${2:-*}"; }

# shellcheck disable=SC1090
. "$initscript"
# shellcheck disable=SC2034 # used by the sourced script
[ -n "$PROG_OVERRIDE" ] && PROG=$PROG_OVERRIDE
# shellcheck disable=SC2034
[ -n "$CONF_OVERRIDE" ] && CONF=$CONF_OVERRIDE
[ -n "$USE_PROCD" ] || { echo "procd-harness: $initscript does not set USE_PROCD" >&2; exit 2; }

start() {
	procd_open_service "$name" "$initscript"
	start_service "$@"
	procd_close_service set
}
stop() {
	stop_service "$@"
	procd_kill "$name" "$1"
}
restart() {
	stop "$@"
	start "$@"
}
reload() {
	if type reload_service >/dev/null 2>&1; then
		reload_service "$@"
	else
		start
	fi
}
enable() {
	_err=1
	[ -n "$START" ] && ln -sf "../init.d/$name" "$IPKG_INSTROOT/etc/rc.d/S$START$name" && _err=0
	[ -n "$STOP" ] && ln -sf "../init.d/$name" "$IPKG_INSTROOT/etc/rc.d/K$STOP$name" && _err=0
	return $_err
}
disable() {
	rm -f "$IPKG_INSTROOT"/etc/rc.d/S??"$name" "$IPKG_INSTROOT"/etc/rc.d/K??"$name"
}

case $action in
start | stop | restart | reload | enable | disable) "$action" "$@" ;;
*)
	echo "procd-harness: unknown action $action" >&2
	exit 2
	;;
esac
