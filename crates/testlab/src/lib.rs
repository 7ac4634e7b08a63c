//! End-to-end test helper: network namespaces joined by veth pairs, the real
//! v6routerd started inside them, and peers (BIRD, dhclient, tshark, ...)
//! started as processes. Everything a `Lab` creates is removed when it is
//! dropped, also when a test panics: processes are killed by pid, namespaces
//! deleted. Names start with `v6t-` so leftovers are recognisable.
//!
//! Only for tests that run as root; they are `#[ignore]`d in plain
//! `cargo test` and run by `tests/run-all.sh` with `--include-ignored`.

mod home;
mod served;
mod toml;
pub mod uml;
pub use home::Home;
pub use served::Setup;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SEQ: AtomicU32 = AtomicU32::new(0);

/// One test's namespaces, links, processes and scratch directory.
pub struct Lab {
    prefix: String,
    dir: PathBuf,
    netns: Mutex<Vec<String>>,
    children: Mutex<Vec<(u32, String)>>,
}

/// A network namespace of a lab.
#[derive(Clone, Debug)]
pub struct Netns {
    pub name: String,
}

/// A v6routerd started by a lab.
pub struct Daemon {
    pub pid: u32,
    pub socket: PathBuf,
    pub log: PathBuf,
    pub config: PathBuf,
    pub state_dir: PathBuf,
    pub ns: Netns,
}

/// Directory holding the built binaries (target/debug), found from the test
/// executable's own path (target/debug/deps/NAME-HASH).
pub fn bin_dir() -> PathBuf {
    if let Ok(d) = std::env::var("V6ROUTER_BIN_DIR") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let deps = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    deps.parent().map(Path::to_path_buf).unwrap_or(deps)
}

/// Path of a workspace binary (`v6routerd`, `v6ctl`); panics with a hint if it
/// was not built.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} not found: run `cargo build --workspace` first (tests/run-all.sh does)",
        p.display()
    );
    p
}

/// True when a command is on PATH.
pub fn have(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Poll `f` every 20 ms until it returns Some or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(x) = f() {
            return Some(x);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let o = run(cmd);
    stdout_of(&o, &format!("{cmd:?}"))
}

/// The standard output of `what`, which must have succeeded; a failure
/// panics with both of its streams.
pub fn stdout_of(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Panics, printing `text`, unless it contains every one of `parts`.
#[track_caller]
pub fn assert_contains(text: &str, parts: &[&str]) {
    assert!(parts.iter().all(|p| text.contains(p)), "{text}");
}

/// Panics unless every one of `cmds` is on PATH, naming `package`
/// (what provides them) for the test log.
pub fn need(cmds: &[&str], package: &str) {
    assert!(cmds.iter().all(|c| have(c)), "{package} is needed");
}

/// The `count` of the entry called `name` in a list of counters of
/// `v6ctl --json` (`received`, `sent`, `drops`, ...); None if absent.
pub fn counter(list: &serde_json::Value, name: &str) -> Option<u64> {
    list.as_array()?
        .iter()
        .find(|c| c["name"] == name)
        .and_then(|c| c["count"].as_u64())
}

impl Lab {
    /// A new lab; `tag` names it in namespace names (`v6t-<tag><n>-...`).
    pub fn new(tag: &str) -> Lab {
        assert!(
            unsafe { libc::geteuid() } == 0,
            "end-to-end tests need root"
        );
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id() % 100_000;
        let prefix = format!("v6t-{tag}{pid}x{n}");
        let dir = std::env::temp_dir().join(&prefix);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create lab dir");
        Lab {
            prefix,
            dir,
            netns: Mutex::new(vec![]),
            children: Mutex::new(vec![]),
        }
    }

    /// Scratch directory of this lab (removed on drop).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Create a namespace with `lo` up and IPv6 DAD off for fast tests.
    pub fn netns(&self, short: &str) -> Netns {
        let name = format!("{}-{short}", self.prefix);
        ok(Command::new("ip").args(["netns", "add", &name]));
        self.netns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(name.clone());
        let ns = Netns { name };
        ns.sh("ip link set lo up");
        ns.sh("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
        ns
    }

    /// A new lab of two namespaces joined by one veth: `a.0` with its end
    /// named `a.1`, `b.0` with `b.1` (most end-to-end tests start here).
    pub fn pair(tag: &str, a: (&str, &str), b: (&str, &str)) -> (Lab, Netns, Netns) {
        let lab = Lab::new(tag);
        let (na, nb) = (lab.netns(a.0), lab.netns(b.0));
        lab.veth(&na, a.1, &nb, b.1);
        (lab, na, nb)
    }

    /// A new namespace `short` whose `own_if` is joined by a veth to
    /// `peer_if` of `peer` (a third namespace after [`Lab::pair`]).
    pub fn netns_on(&self, peer: &Netns, peer_if: &str, short: &str, own_if: &str) -> Netns {
        let ns = self.netns(short);
        self.veth(peer, peer_if, &ns, own_if);
        ns
    }

    /// A veth pair `a_if` in `a` and `b_if` in `b`, both up.
    pub fn veth(&self, a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let (ta, tb) = (format!("v6tva{n}"), format!("v6tvb{n}"));
        ok(Command::new("ip").args(["link", "add", &ta, "type", "veth", "peer", "name", &tb]));
        ok(Command::new("ip").args(["link", "set", &ta, "netns", &a.name]));
        ok(Command::new("ip").args(["link", "set", &tb, "netns", &b.name]));
        a.sh(&format!(
            "ip link set {ta} name {a_if} && ip link set {a_if} up"
        ));
        b.sh(&format!(
            "ip link set {tb} name {b_if} && ip link set {b_if} up"
        ));
    }

    /// ISC dhcpd -6 in `ns` on `iface` with `conf` (dhcpd.conf text), in the
    /// foreground, logging to `<lab dir>/<log>`; its files live in the lab
    /// dir. Answers its pid and its lease file.
    pub fn isc_dhcpd6(&self, ns: &Netns, conf: &str, iface: &str, log: &str) -> (u32, String) {
        let path = |n: &str| self.dir.join(n).display().to_string();
        std::fs::write(path("dhcpd6.conf"), conf).expect("dhcpd6.conf");
        std::fs::write(path("dhcpd6.leases"), "").expect("dhcpd6.leases");
        let pid = self.spawn(
            ns,
            &[
                "dhcpd",
                "-6",
                "-f",
                "-d",
                "-cf",
                &path("dhcpd6.conf"),
                "-lf",
                &path("dhcpd6.leases"),
                "-pf",
                &path("dhcpd.pid"),
                iface,
            ],
            log,
        );
        (pid, path("dhcpd6.leases"))
    }

    /// Kea 2.2 in `ns` on `iface` (subnet 2001:db8:ff::/64): addresses
    /// ::1000-::10ff, /56s of `pool` (a /40), short timers (renew 4 s,
    /// rebind 6 s, preferred 20 s, valid 40 s) and `option_data` (Kea's
    /// JSON list, e.g. `[]`). Its pid.
    pub fn kea6(&self, ns: &Netns, iface: &str, pool: &str, option_data: &str) -> u32 {
        self.kea6_subnet(ns, iface, pool, option_data, true)
    }

    /// [`Lab::kea6`], with the subnet bound to `iface` (`"interface"`) or
    /// not: then Kea places a relayed client only by its relay's
    /// link-address (a direct one by `iface`'s address, 2001:db8:ff::1).
    pub fn kea6_subnet(
        &self,
        ns: &Netns,
        iface: &str,
        pool: &str,
        option_data: &str,
        bound: bool,
    ) -> u32 {
        let bind = if bound {
            format!(r#""interface": "{iface}", "#)
        } else {
            String::new()
        };
        std::fs::create_dir_all("/var/lib/kea").expect("/var/lib/kea");
        std::fs::create_dir_all("/run/kea").expect("/run/kea");
        let path = |n: &str| self.dir.join(n).display().to_string();
        let kea = format!(
            r#"{{ "Dhcp6": {{ "interfaces-config": {{ "interfaces": [ "{iface}" ] }},
      "renew-timer": 4, "rebind-timer": 6, "preferred-lifetime": 20, "valid-lifetime": 40,
      "lease-database": {{ "type": "memfile", "persist": true, "name": "{}" }},
      "option-data": {option_data},
      "subnet6": [ {{ "subnet": "2001:db8:ff::/64", {bind}
         "pools": [ {{ "pool": "2001:db8:ff::1000-2001:db8:ff::10ff" }} ],
         "pd-pools": [ {{ "prefix": "{pool}", "prefix-len": 40, "delegated-len": 56 }} ] }} ] }} }}"#,
            path("isp-leases.csv")
        );
        std::fs::write(path("kea.json"), kea).expect("kea.json");
        let env = format!(
            "KEA_PIDFILE_DIR={0} KEA_LOCKFILE_DIR={0}",
            self.dir.display()
        );
        let cmd = format!("exec env {env} kea-dhcp6 -c {}", path("kea.json"));
        self.spawn(ns, &["sh", "-c", &cmd], "kea.log")
    }

    /// The ISP of RECIPES.md in `ns` on `iface` (2001:db8:ff::/64): Kea
    /// ([`Lab::kea6`]) plus radvd there for the WAN's default route
    /// (started once). Kea's pid: stop it and call again with another pool,
    /// and the ISP has renumbered.
    pub fn kea_isp(&self, ns: &Netns, iface: &str, pool: &str, option_data: &str) -> u32 {
        let pid = self.kea6(ns, iface, pool, option_data);
        if !self.dir.join("radvd.conf").exists() {
            self.isp_radvd(ns, iface);
        }
        pid
    }

    /// radvd on the ISP's `iface`: M flag, 2001:db8:ff::/64 autonomous, and
    /// a default route for the router's WAN (RECIPES.md's short intervals).
    pub fn isp_radvd(&self, ns: &Netns, iface: &str) -> u32 {
        self.radvd(ns, &format!("interface {iface} {{ AdvSendAdvert on; AdvManagedFlag on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4;\n  prefix 2001:db8:ff::/64 {{ AdvOnLink on; AdvAutonomous on; }}; }};\n"))
    }

    /// radvd in `ns` with `conf` (radvd.conf text); its log is radvd.log.
    pub fn radvd(&self, ns: &Netns, conf: &str) -> u32 {
        let path = |n: &str| self.dir.join(n).display().to_string();
        std::fs::write(path("radvd.conf"), conf).expect("radvd.conf");
        let (conf, pidf) = (path("radvd.conf"), path("radvd.pid"));
        self.spawn(
            ns,
            &["radvd", "-n", "-m", "stderr", "-C", &conf, "-p", &pidf],
            "radvd.log",
        )
    }

    /// Start a background process in `ns`; it is killed (by pid) on drop.
    /// stdout and stderr go to `<lab dir>/<log>`.
    pub fn spawn(&self, ns: &Netns, args: &[&str], log: &str) -> u32 {
        let logf = std::fs::File::create(self.dir.join(log)).expect("log file");
        let errf = logf.try_clone().expect("log file");
        let child: Child = Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .args(args)
            .stdin(Stdio::null())
            .stdout(logf)
            .stderr(errf)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {args:?}: {e}"));
        let pid = child.id();
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((pid, args.join(" ")));
        // The Child handle is dropped on purpose: we reap by pid in kill().
        std::mem::forget(child);
        pid
    }

    /// `dhclient -6` in the foreground on `iface` in `ns` with `flags`
    /// (`-P`, `-N`, `-S`, ...), never touching the namespace's addresses
    /// (`-sf /bin/true` unless `flags` names a script). Its lease file is
    /// `<lab dir>/<name>.leases`, its output `<name>.log`; it is killed with
    /// the lab.
    pub fn dhclient(&self, ns: &Netns, name: &str, flags: &[&str], iface: &str) -> Dhclient {
        assert!(have("dhclient"), "isc-dhcp-client is needed");
        let leases = self.dir.join(format!("{name}.leases"));
        let pid_file = self.dir.join(format!("{name}.pid")).display().to_string();
        let lf = leases.display().to_string();
        let mut args = vec!["dhclient", "-6", "-d", "-v"];
        if !flags.contains(&"-sf") {
            args.extend(["-sf", "/bin/true"]);
        }
        args.extend_from_slice(flags);
        args.extend(["-lf", &lf, "-pf", &pid_file, iface]);
        let log = format!("{name}.log");
        let pid = self.spawn(ns, &args, &log);
        Dhclient {
            pid,
            leases,
            log: self.dir.join(log),
        }
    }

    /// tshark capturing on `dev` in `ns` with capture filter `filter` into
    /// `<lab dir>/<name>.pcap` (pcap format, for tshark -r and tcpdump -r).
    /// Returns once it captures: its pid (stop it with [`Lab::stop`] so
    /// that it writes out what it has) and the file's path.
    pub fn capture(&self, ns: &Netns, dev: &str, filter: &str, name: &str) -> (u32, String) {
        let pcap = self.dir.join(format!("{name}.pcap")).display().to_string();
        let log = format!("{name}-tshark.log");
        let pid = self.spawn(
            ns,
            &["tshark", "-i", dev, "-f", filter, "-w", &pcap, "-F", "pcap"],
            &log,
        );
        let path = self.dir.join(&log);
        let up = wait_for(Duration::from_secs(10), || {
            std::fs::read_to_string(&path)
                .unwrap_or_default()
                .contains("Capturing on")
                .then_some(())
        });
        assert!(
            up.is_some(),
            "tshark did not start: {}",
            std::fs::read_to_string(&path).unwrap_or_default()
        );
        // "Capturing on" comes a moment before dumpcap's filter is attached:
        // the first packets after it could go unseen.
        std::thread::sleep(Duration::from_millis(500));
        (pid, pcap)
    }

    /// tcpdump on `dev` in `ns` writing what matches `filter` (packet by
    /// packet: `--immediate-mode -U`) to `<lab dir>/<file>`. Returns once
    /// it listens: its pid (stop it with [`Lab::stop`]) and the file's path.
    pub fn tcpdump(&self, ns: &Netns, dev: &str, filter: &str, file: &str) -> (u32, String) {
        let path = self.dir.join(file).display().to_string();
        let log = format!("{file}.log");
        let args = [
            "tcpdump",
            "-i",
            dev,
            "--immediate-mode",
            "-U",
            "-n",
            "-w",
            &path,
            filter,
        ];
        let pid = self.spawn(ns, &args, &log);
        let started = wait_for(Duration::from_secs(5), || {
            let t = std::fs::read_to_string(self.dir.join(&log)).unwrap_or_default();
            t.contains("listening on").then_some(())
        });
        assert!(started.is_some(), "tcpdump did not start");
        (pid, path)
    }

    /// Start v6routerd in `ns` with `config` (TOML text). `STATE` and `SOCK`
    /// in it become daemon `name`'s state directory and control socket in
    /// the lab (for a config that has its own `[router]` or `[control]`, see
    /// [`router_toml!`]); `[router] state_dir` and `[control] socket` are
    /// added when those sections are absent.
    pub fn daemon(&self, ns: &Netns, name: &str, config: &str) -> Daemon {
        let state_dir = self.dir.join(format!("{name}-state"));
        let socket = self.dir.join(format!("{name}.sock"));
        let config = config
            .replace("STATE", &state_dir.display().to_string())
            .replace("SOCK", &socket.display().to_string());
        let mut text = String::new();
        if !config.contains("[router]") {
            text.push_str(&format!(
                "[router]\nstate_dir = \"{}\"\n\n",
                state_dir.display()
            ));
        }
        if !config.contains("[control]") {
            text.push_str(&format!("[control]\nsocket = \"{}\"\n\n", socket.display()));
        }
        text.push_str(&config);
        let cfg = self.dir.join(format!("{name}.toml"));
        std::fs::write(&cfg, text).expect("write config");
        self.start_daemon(ns, name, &cfg, socket, state_dir)
    }

    /// Start `d`'s daemon again as `name` (its log), with the same config
    /// file, control socket and state directory: after a stop or a kill -9.
    pub fn restart(&self, d: &Daemon, name: &str) -> Daemon {
        let (sock, state) = (d.socket.clone(), d.state_dir.clone());
        self.start_daemon(&d.ns, name, &d.config, sock, state)
    }

    /// (Re)start v6routerd with an existing config file.
    pub fn start_daemon(
        &self,
        ns: &Netns,
        name: &str,
        cfg: &Path,
        socket: PathBuf,
        state_dir: PathBuf,
    ) -> Daemon {
        let logname = format!("{name}.log");
        let log = self.dir.join(&logname);
        // Append, so a restart keeps the earlier log.
        let logf = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log");
        let errf = logf.try_clone().expect("log");
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .arg(bin("v6routerd"))
            .arg("-c")
            .arg(cfg)
            .arg("-v")
            .stdin(Stdio::null())
            .stdout(logf)
            .stderr(errf)
            .spawn()
            .expect("start v6routerd");
        let pid = child.id();
        std::mem::forget(child);
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((pid, format!("v6routerd {name}")));
        let d = Daemon {
            pid,
            socket,
            log,
            config: cfg.to_path_buf(),
            state_dir,
            ns: ns.clone(),
        };
        let up = wait_for(Duration::from_secs(5), || {
            d.try_ctl(&["show", "status"]).ok()
        });
        assert!(
            up.is_some(),
            "v6routerd {name} did not start; log:\n{}",
            d.log_text()
        );
        d
    }

    /// Send a signal to a process we started.
    pub fn signal(&self, pid: u32, sig: i32) {
        unsafe {
            libc::kill(pid as i32, sig);
        }
    }

    /// Stop a process we started: SIGTERM, wait up to `grace`, then SIGKILL.
    /// Returns the exit code if it exited by itself.
    pub fn stop(&self, pid: u32, grace: Duration) -> Option<i32> {
        self.signal(pid, libc::SIGTERM);
        let code = wait_for(grace, || reap(pid));
        if code.is_none() {
            self.kill9(pid);
        } else {
            self.forget(pid);
        }
        code.flatten()
    }

    /// kill -9 a process we started and reap it.
    pub fn kill9(&self, pid: u32) {
        self.signal(pid, libc::SIGKILL);
        let _ = wait_for(Duration::from_secs(2), || reap(pid));
        self.forget(pid);
    }

    /// `pid` is gone: the lab's clean-up must not signal it (the number
    /// may be reused).
    fn forget(&self, pid: u32) {
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(p, _)| *p != pid);
    }
}

/// Some(Some(code)) once the child exited normally, Some(None) if killed by a
/// signal; None while it runs.
fn reap(pid: u32) -> Option<Option<i32>> {
    let mut status = 0;
    let r = unsafe { libc::waitpid(pid as i32, &mut status, libc::WNOHANG) };
    if r == pid as i32 {
        if libc::WIFEXITED(status) {
            Some(Some(libc::WEXITSTATUS(status)))
        } else {
            Some(None)
        }
    } else if r < 0 {
        Some(None)
    } else {
        None
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let children =
            std::mem::take(&mut *self.children.lock().unwrap_or_else(|e| e.into_inner()));
        for (pid, _) in &children {
            unsafe {
                libc::kill(*pid as i32, libc::SIGTERM);
            }
        }
        for (pid, _) in &children {
            if wait_for(Duration::from_secs(2), || reap(*pid)).is_none() {
                unsafe {
                    libc::kill(*pid as i32, libc::SIGKILL);
                }
                let _ = wait_for(Duration::from_secs(1), || reap(*pid));
            }
        }
        let namespaces = std::mem::take(&mut *self.netns.lock().unwrap_or_else(|e| e.into_inner()));
        for ns in namespaces.iter().rev() {
            // Anything still running inside (a daemon's own children) goes too.
            let _ = Command::new("ip")
                .args(["netns", "pids", ns])
                .output()
                .map(|o| {
                    for p in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                        if let Ok(p) = p.parse::<i32>() {
                            unsafe {
                                libc::kill(p, libc::SIGKILL);
                            }
                        }
                    }
                });
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        if std::env::var_os("V6ROUTER_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Netns {
    /// Run a shell command inside; returns its output whatever the status.
    pub fn run(&self, cmd: &str) -> Output {
        run(Command::new("ip").args(["netns", "exec", &self.name, "sh", "-c", cmd]))
    }

    /// Run a shell command inside; panics with its output if it fails.
    pub fn sh(&self, cmd: &str) -> String {
        ok(Command::new("ip").args(["netns", "exec", &self.name, "sh", "-c", cmd]))
    }

    /// One `ping -6` of `to`, given 1 s to answer: true if it did.
    pub fn ping(&self, to: &str) -> bool {
        self.run(&format!("ping -6 -c 1 -W 1 {to}"))
            .status
            .success()
    }

    /// [`Netns::ping`] again and again until `to` answers, for up to
    /// `timeout`: true if it did.
    pub fn pings_within(&self, to: &str, timeout: Duration) -> bool {
        wait_for(timeout, || self.ping(to).then_some(())).is_some()
    }

    /// The link-local address of `dev` (without its length); empty if none.
    pub fn link_local(&self, dev: &str) -> String {
        self.sh(&format!("ip -6 -o addr show dev {dev} scope link"))
            .split_whitespace()
            .skip_while(|w| *w != "inet6")
            .nth(1)
            .and_then(|a| a.split('/').next())
            .unwrap_or_default()
            .to_string()
    }
}

impl Daemon {
    /// `v6ctl -s SOCKET args...`; Err holds stderr (and the exit code).
    pub fn try_ctl(&self, args: &[&str]) -> Result<String, String> {
        let o = Command::new(bin("v6ctl"))
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if o.status.success() {
            Ok(String::from_utf8_lossy(&o.stdout).into_owned())
        } else {
            Err(format!(
                "exit {:?}: {}{}",
                o.status.code(),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ))
        }
    }

    /// `v6ctl` that must succeed.
    pub fn ctl(&self, args: &[&str]) -> String {
        self.try_ctl(args)
            .unwrap_or_else(|e| panic!("v6ctl {args:?}: {e}\nlog:\n{}", self.log_text()))
    }

    /// How many DHCPv6 messages of type `name` ("SOLICIT", "RELEASE", ...)
    /// the daemon received (`v6ctl --json show dhcpv6`); 0 when it cannot say.
    pub fn dhcpv6_received(&self, name: &str) -> u64 {
        let st = self
            .try_ctl(&["--json", "show", "dhcpv6"])
            .unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&st).unwrap_or_default();
        counter(&v["data"]["received"], name).unwrap_or(0)
    }

    /// `v6ctl args` (or why it failed) and then the daemon's log: what a
    /// failed wait on the daemon prints.
    pub fn report(&self, args: &[&str]) -> String {
        let now = self.try_ctl(args).unwrap_or_else(|e| e);
        format!("{now}\n{}", self.log_text())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Bytes from a hex fixture as the tests write them: spaces, newlines and
/// colons between the digits are ignored. Panics on an odd digit count
/// (a broken fixture).
pub fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|c| (c as char).to_digit(16).map_or(0, |d| d as u8))
        .collect();
    assert!(
        digits.len().is_multiple_of(2),
        "odd number of hex digits in a fixture"
    );
    digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
}

/// A `dhclient -6` started by [`Lab::dhclient`].
pub struct Dhclient {
    pub pid: u32,
    /// Its lease file.
    pub leases: PathBuf,
    /// Its output.
    pub log: PathBuf,
}

impl Dhclient {
    /// The lease file as it is now ("" before the first lease).
    pub fn lease_text(&self) -> String {
        std::fs::read_to_string(&self.leases).unwrap_or_default()
    }

    /// What it printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until the lease file satisfies `ok`; its text then.
    pub fn wait_lease(&self, timeout: Duration, ok: impl Fn(&str) -> bool) -> Option<String> {
        wait_for(timeout, || {
            let t = self.lease_text();
            ok(&t).then_some(t)
        })
    }
}

/// The last value of `key` (`iaaddr`, `iaprefix`) in a dhclient lease file.
pub fn lease_field(lease: &str, key: &str) -> Option<String> {
    lease
        .lines()
        .filter_map(|l| l.trim().strip_prefix(key))
        .next_back()
        .map(|r| r.trim().trim_end_matches('{').trim().to_string())
}

/// The LAN most DHCPv6 tests serve: `lan0` with M set and a pool in
/// 2001:db8:1::/64, as TOML to start a test's config with.
pub const DHCPV6_LAN: &str = r#"
[[interface]]
name = "lan0"

[interface.ra]
managed = true

[interface.dhcpv6]
pool = "2001:db8:1::1000-2001:db8:1::1fff"
"#;

/// The laptop of the lease tests: DUID-LL 02:00:00:00:00:77, in
/// dhclient's lease-file notation (`default-duid`) and as v6router
/// writes it, and its host entry (`[[interface.dhcpv6.host]]`).
pub mod laptop {
    use crate::{Dhclient, Lab, Netns};
    use std::time::Duration;

    pub const DUID_ESCAPED: &str = r"\000\003\000\001\002\000\000\000\000\167";
    pub const DUID: &str = "00:03:00:01:02:00:00:00:00:77";
    pub const HOST: &str = r#"
[[interface.dhcpv6.host]]
name = "laptop"
duid = "00:03:00:01:02:00:00:00:00:77"
address = "2001:db8:1::500"
"#;

    /// dhclient as the laptop on `eth0` of `host` (its DUID put in the
    /// lease file's `default-duid` before it starts), and its lease once
    /// that has the host entry's address (within 15 s).
    pub fn lease(lab: &Lab, host: &Netns) -> (Dhclient, Option<String>) {
        let lf = lab.dir().join("laptop.leases");
        std::fs::write(&lf, format!("default-duid \"{DUID_ESCAPED}\";\n")).unwrap();
        let c = lab.dhclient(host, "laptop", &[], "eth0");
        let lease = c.wait_lease(Duration::from_secs(15), |t| {
            t.contains("iaaddr 2001:db8:1::500")
        });
        (c, lease)
    }
}
