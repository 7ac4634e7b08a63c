//! 6in4 (SIT) tunnels end to end, inside User-Mode Linux: this machine's
//! kernel has no sit driver, Debian's UML kernel has it as a module.
//!
//! tests/uml/tunnel.sh runs as init in the guest (which sees the host's
//! files, so the binaries built here run there as they are): two namespaces
//! joined by an IPv4 veth, v6routerd in each with a tunnel to the other,
//! configured by v6router.toml alone. The script writes one line per check
//! to a result file, since UML's exit status does not come back.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use testlab::bin;

/// Every check the script makes; each must be reported as passed.
const CHECKS: &[&str] = &[
    "up_from_config",
    "broker_told_at_start",
    "broker_failure_shown",
    "same_as_ip_tunnel_add",
    "owner_tag",
    "routes",
    "ping6",
    "show_tunnels",
    "show_protocols",
    "restored_after_delete",
    "ping6_after_restore",
    "restored_after_down",
    "wan_address_followed",
    "broker_told_new_address",
    "reload",
    "broker_command_reloaded",
    "adopted_hand_made",
    "stop_leaves_adopted",
    "removed_on_stop",
    "kept_on_stop",
];

fn repo(path: &str) -> PathBuf {
    PathBuf::from(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR")))
}

#[test]
#[ignore = "needs root and network namespaces (runs User-Mode Linux: apt-get install user-mode-linux)"]
fn sit_tunnels_in_user_mode_linux() {
    let script = repo("tests/uml/tunnel.sh")
        .canonicalize()
        .expect("tests/uml/tunnel.sh");
    let work = std::env::temp_dir().join(format!("v6t-tunnel-uml-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    let result = work.join("result");
    let v6routerd = PathBuf::from(env!("CARGO_BIN_EXE_v6routerd"));
    let v6ctl = bin("v6ctl");

    // UML keeps its own state in ~/.uml; give it one under the work dir.
    // Its start-up chatter goes to the console log with the guest's console.
    let console = std::fs::File::create(work.join("console.log")).expect("console log");
    let mut child = testlab::uml::linux_uml()
        .args([
            "mem=256M",
            "root=/dev/root",
            "rootfstype=hostfs",
            "rootflags=/",
            "rw",
            &format!("init={}", script.display()),
            &format!("V6ROUTERD={}", v6routerd.display()),
            &format!("V6CTL={}", v6ctl.display()),
            &format!("WORK={}", work.display()),
            &format!("RESULT={}", result.display()),
            "con=null",
            "con0=fd:0,fd:1",
        ])
        .env("HOME", &work)
        .stdin(Stdio::null())
        .stdout(console.try_clone().expect("console log"))
        .stderr(console)
        .spawn()
        .expect("linux.uml (apt-get install user-mode-linux)");

    // The script takes about 20 s; give a slow machine plenty, then stop
    // the guest we started (by its pid) rather than hang the suite.
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    let report = std::fs::read_to_string(&result).unwrap_or_default();
    println!("--- {} ---\n{report}", result.display());
    let failed: Vec<&str> = report.lines().filter(|l| l.starts_with("FAIL")).collect();
    if !failed.is_empty() || !report.lines().any(|l| l == "DONE") {
        for f in ["a.log", "b.log", "console.log"] {
            if let Ok(s) = std::fs::read_to_string(work.join(f)) {
                println!("--- {f} ---\n{s}");
            }
        }
    }
    assert!(failed.is_empty(), "checks failed:\n{}", failed.join("\n"));
    assert!(
        report.lines().any(|l| l == "DONE"),
        "the guest did not finish (timeout or crash); see console.log in {}",
        work.display()
    );
    for c in CHECKS {
        assert!(
            report.lines().any(|l| l.starts_with(&format!("PASS {c} "))),
            "check {c} was not reported as passed"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// On the host kernel (no sit driver here; the check adapts where there is
/// one): `local = "auto"` waits for the WAN's IPv4 address, follows the
/// RTM_NEWADDR at once, and a refused create is reported, not fatal.
#[test]
#[ignore = "needs root and network namespaces"]
fn auto_local_waits_for_the_wan_address_then_creates() {
    use testlab::{wait_for, Lab};
    let (lab, a, _b) = Lab::pair("tun", ("a", "eth0"), ("b", "eth0"));
    let d = lab.daemon(
        &a,
        "a",
        r#"
[[tunnel]]
name = "he6"
remote = "198.51.100.1"
local = "auto"
wan = "eth0"
address = "2001:db8:f::2/64"
default_route = true
"#,
    );
    let waiting = wait_for(Duration::from_secs(3), || {
        let s = d.ctl(&["show", "tunnels"]);
        s.contains("waiting: no IPv4 address on eth0 yet")
            .then_some(s)
    });
    assert!(waiting.is_some(), "{}", d.report(&["show", "tunnels"]));
    assert!(
        a.run("ip link show he6").status.code() != Some(0),
        "no tunnel before the WAN has an address"
    );

    a.sh("ip addr add 192.0.2.2/24 dev eth0");
    let has_sit = a
        .run("ip link add v6t-probe type sit remote 198.51.100.9")
        .status
        .success();
    if has_sit {
        a.sh("ip link del v6t-probe");
    }
    let t0 = Instant::now();
    let after = wait_for(Duration::from_secs(3), || {
        let s = d.ctl(&["show", "tunnels"]);
        let done = if has_sit {
            s.contains("he6  up") && s.contains("192.0.2.2")
        } else {
            s.contains("create failed") && s.contains("no sit driver")
        };
        done.then_some(s)
    });
    let took = t0.elapsed();
    let out = after.unwrap_or_else(|| panic!("{}", d.report(&["show", "tunnels"])));
    println!("reacted to the WAN address in {took:?} (sit driver: {has_sit}):\n{out}");
    // The daemon is still serving after the refusal.
    assert!(
        d.ctl(&["show", "status"]).contains("tunnel"),
        "{}",
        d.log_text()
    );
}
