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
# is sourced (to run `reload` against a staged binary and config);
# UCI_DIR_OVERRIDE / GEN_OVERRIDE / CAPS_OVERRIDE / ODHCPD_INIT_OVERRIDE
# likewise for UCI_DIR (/etc/config), GEN (/var/etc/v6router.toml), CAPS
# and ODHCPD_INIT; PROCD_INSTANCE_PID: procd_send_signal really signals
# this process (a daemon the caller started as procd would have).
#
# Also stands in for `uci -q [-c DIR] get PKG.SECTION.OPTION` (named
# sections, one value) and for `logger` (a line per message, or per line
# of stdin: "log PRIORITY TAG: MESSAGE").
#
# One more action, `trigger PACKAGE`, plays procd's part when
# `uci commit PACKAGE; reload_config` fires config.change: if the script's
# service_triggers registered a reload trigger for PACKAGE, it logs
# "event config.change package=PACKAGE" and runs the reload.
#
#   procd-harness.sh --selftest-uci TARGETDIR
# runs the UCI scenario end to end with the v6routerd in TARGETDIR (root,
# one network namespace of its own): start imports /etc/config into the
# TOML and registers triggers; a change of dhcp regenerates it and the
# running daemon reloads it; an unparsable dhcp leaves the daemon and the
# TOML as they were, and the log says why with file:line.

initscript=$1
action=${2:-help}
selftest_dir=$2
shift 2 2>/dev/null || shift $#

[ "$initscript" = --selftest-uci ] || : "${PROCD_LOG:?PROCD_LOG must name the log file}"
PROCD_RELOAD_DELAY=1000
name=$(basename -- "$initscript")

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
	# dash's `kill -l NAME` prints nothing; busybox ash's prints the number.
	HUP) _sig=1 ;;
	[A-Z]*) _sig=$(kill -l "$_sig" 2>/dev/null) || return 1 ;;
	esac
	_log "signal service=$1 instance=${2:-*} signal=${_sig:-default}"
	[ -z "$PROCD_INSTANCE_PID" ] || kill "-${_sig:-1}" "$PROCD_INSTANCE_PID"
}

# /sbin/uci, `get` only: `option NAME VALUE` of `config TYPE 'SECTION'`.
uci() {
	_dir=/etc/config
	while [ $# -gt 0 ]; do
		case $1 in
		-q) shift ;;
		-c) _dir=$2; shift 2 ;;
		get) _path=$2; break ;;
		*) return 1 ;;
		esac
	done
	_pkg=${_path%%.*}
	_rest=${_path#*.}
	[ -f "$_dir/$_pkg" ] || return 1
	_v=$(awk -v sec="${_rest%%.*}" -v opt="${_rest#*.}" '
		function unq(s) { gsub(/^["\047]|["\047]$/, "", s); return s }
		$1 == "config" { insec = (unq($3) == sec) }
		insec && $1 == "option" && $2 == opt { v = unq($3); found = 1 }
		END { if (found) print v; else exit 1 }' "$_dir/$_pkg") || return 1
	printf '%s\n' "$_v"
}

logger() {
	_prio=notice
	_tag=
	while [ $# -gt 0 ]; do
		case $1 in
		-t) _tag=$2; shift 2 ;;
		-p) _prio=$2; shift 2 ;;
		*) break ;;
		esac
	done
	if [ $# -gt 0 ]; then
		_log "log $_prio $_tag: $*"
	else
		while IFS= read -r _l; do _log "log $_prio $_tag: $_l"; done
	fi
}
procd_kill() { _log "kill service=$1 instance=${2:-*}"; }

# The scenario of --selftest-uci, in its own function below.
if [ "$initscript" = --selftest-uci ]; then
	action=selftest-uci
	initscript=$(dirname "$0")/../../packaging/openwrt/files/v6routerd.init
	name=v6routerd
fi

# shellcheck disable=SC1090
. "$initscript"
# shellcheck disable=SC2034 # used by the sourced script
[ -n "$PROG_OVERRIDE" ] && PROG=$PROG_OVERRIDE
# shellcheck disable=SC2034
[ -n "$CONF_OVERRIDE" ] && CONF=$CONF_OVERRIDE
# shellcheck disable=SC2034
[ -n "$UCI_DIR_OVERRIDE" ] && UCI_DIR=$UCI_DIR_OVERRIDE
# shellcheck disable=SC2034
[ -n "$GEN_OVERRIDE" ] && GEN=$GEN_OVERRIDE
# shellcheck disable=SC2034
[ -n "$CAPS_OVERRIDE" ] && CAPS=$CAPS_OVERRIDE
# shellcheck disable=SC2034
[ -n "$ODHCPD_INIT_OVERRIDE" ] && ODHCPD_INIT=$ODHCPD_INIT_OVERRIDE
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

# procd on config.change for PACKAGE: reload if a trigger asks for it.
trigger() {
	_want=$1
	_hit=
	procd_add_reload_trigger() {
		for _cfg in "$@"; do [ "$_cfg" = "$_want" ] && _hit=1; done
	}
	procd_add_reload_interface_trigger() { :; }
	service_triggers
	[ -n "$_hit" ] || return 0
	_log "event config.change package=$_want"
	reload
}

selftest_uci() {
	_t=$(mktemp -d)
	_ns=v6t-procd-$$
	_fail=0
	_pid=
	_ok() { echo "ok   - $*"; }
	_bad() { echo "FAIL - $*"; _fail=1; }
	_has() { grep -qF -- "$2" "$3" && _ok "$1" || { _bad "$1"; sed 's/^/       /' "$3"; }; }
	# shellcheck disable=SC2317
	_cleanup() {
		[ -z "$_pid" ] || kill "$_pid" 2>/dev/null
		[ -z "$_pid" ] || wait "$_pid" 2>/dev/null
		[ -z "$_ip" ] || "$_ip" netns del "$_ns" 2>/dev/null
		rm -rf "$_t"
	}
	trap _cleanup EXIT
	_fx=$(dirname "$0")/../../crates/config/src/uci/fixtures
	mkdir -p "$_t/config" "$_t/state"
	cp "$_fx/openwrt-24.10-network" "$_t/config/network"
	# loglevel 6: the daemon logs its reloads at info; the lease file in
	# the test's directory; the Mobile IPv6 router address flag, which is
	# not carried over, and an NTP server, which is.
	sed -e "s/option loglevel '4'/option loglevel '6'/" \
		-e "s|option leasefile '/tmp/hosts/odhcpd'|option leasefile '$_t/hosts/odhcpd'|" \
		-e "s|option ra_slaac '1'|&\n\toption ra_advrouter '1'\n\tlist ntp '2001:db8::123'|" \
		"$_fx/openwrt-24.10-dhcp" >"$_t/config/dhcp"
	printf "config v6router 'main'\n\toption source 'uci'\n\toption state_dir '%s'\n\toption socket '%s'\n" \
		"$_t/state" "$_t/ctl.sock" >"$_t/config/v6router"
	PROG=$selftest_dir/v6routerd UCI_DIR=$_t/config GEN=$_t/var/v6router.toml ODHCPD_INIT=$_t/none
	export PROCD_LOG=$_t/procd.log
	: >"$PROCD_LOG"
	start
	_has "start imports /etc/config into the TOML it runs" "param command [$PROG] [-c] [$GEN]" "$PROCD_LOG"
	_has "start registers reload triggers on network, dhcp and v6router" "trigger config.change package=dhcp run" "$PROCD_LOG"
	_has "start registers interface triggers for lan and wan6" "trigger interface.* interface=lan run" "$PROCD_LOG"
	_has "what is not carried over is logged with file:line" "log daemon.notice v6routerd:   --> $_t/config/dhcp:33:9" "$PROCD_LOG"
	_has "odhcpd's ntp is carried over" "ntp = [\"2001:db8::123\"]" "$GEN"
	_has "odhcpd's lease file is carried over" "lease_file = \"$_t/hosts/odhcpd\"" "$GEN"
	# Run the daemon as procd would, in a namespace of its own.
	# iproute2's, not a shell's built-in applet (busybox ash has one).
	_ip=$(for p in /usr/sbin/ip /sbin/ip /usr/bin/ip /bin/ip; do [ -x "$p" ] && echo "$p" && break; done)
	"$_ip" netns add "$_ns" || { _bad "ip netns add"; return 1; }
	"$_ip" netns exec "$_ns" "$PROG" -c "$GEN" 2>"$_t/daemon.log" &
	_pid=$!
	export PROCD_INSTANCE_PID=$_pid
	sleep 1
	cp "$GEN" "$_t/first.toml"
	sed -i "s/option ra_slaac '1'/option ra_slaac '1'\n\toption ra_maxinterval '120'/" "$_t/config/dhcp"
	: >"$PROCD_LOG"
	trigger dhcp
	sleep 1
	_has "a change of dhcp fires the reload trigger" "event config.change package=dhcp" "$PROCD_LOG"
	_has "the TOML is regenerated with the change" "max_interval = 120" "$GEN"
	_has "the daemon is sent SIGHUP" "signal service=v6routerd instance=* signal=1" "$PROCD_LOG"
	_has "the running daemon reloads the new TOML" "reloaded $GEN" "$_t/daemon.log"
	grep -q "reloaded $GEN: no change" "$_t/daemon.log" && _bad "... and finds it changed" || _ok "... and finds it changed"
	cp "$GEN" "$_t/good.toml"
	printf "config dhcp 'broken'\n\toption ra 'server\n" >>"$_t/config/dhcp"
	: >"$PROCD_LOG"
	_hups=$(grep -c SIGHUP "$_t/daemon.log")
	trigger dhcp && _bad "reload with an unparsable dhcp fails" || _ok "reload with an unparsable dhcp fails"
	sleep 1
	_has "the log says why, with file:line" "log daemon.err v6routerd:   --> $_t/config/dhcp:" "$PROCD_LOG"
	_has "... and that the configuration did not change" "configuration not changed" "$PROCD_LOG"
	grep -q "signal service" "$PROCD_LOG" && _bad "no signal after a failed import" || _ok "no signal after a failed import"
	cmp -s "$GEN" "$_t/good.toml" && _ok "the TOML stays the last good one" || _bad "the TOML stays the last good one"
	[ "$(grep -c SIGHUP "$_t/daemon.log")" = "$_hups" ] && kill -0 "$_pid" && _ok "the daemon runs on as it was" || _bad "the daemon runs on as it was"
	: >"$PROCD_LOG"
	start
	_has "start while running keeps the last good TOML" "param command [$PROG] [-c] [$GEN]" "$PROCD_LOG"
	stop
	: >"$PROCD_LOG"
	start
	_has "after stop, start refuses the broken files" "not started: no configuration" "$PROCD_LOG"
	grep -q "instance.open" "$PROCD_LOG" && _bad "no instance without a configuration" || _ok "no instance without a configuration"
	printf 'config x\n' >"$_t/odhcpd" && printf '#!/bin/sh\n[ "$1" = enabled ]\n' >"$_t/odhcpd" && chmod +x "$_t/odhcpd"
	sed -i "/^config dhcp 'broken'/,\$d" "$_t/config/dhcp"
	ODHCPD_INIT=$_t/odhcpd
	: >"$PROCD_LOG"
	start
	_has "start refuses while odhcpd is enabled, and says so" "not started: odhcpd is enabled" "$PROCD_LOG"
	return $_fail
}

case $action in
start | stop | restart | reload | enable | disable | trigger) "$action" "$@" ;;
selftest-uci) selftest_uci ;;
*)
	echo "procd-harness: unknown action $action" >&2
	exit 2
	;;
esac
