//! Runs a tunnel's `update_command` (when: `v6tunnel::update`). The command
//! goes to `/bin/sh -c` with the tunnel in its environment:
//!
//! - `V6_TUNNEL`: the tunnel's name;
//! - `V6_LOCAL`: the local IPv4 address the broker must learn;
//! - `V6_PREVIOUS_LOCAL`: the one last announced (empty at the first run);
//! - `V6_REMOTE`: the broker's tunnel server.
//!
//! Exit status 0 is success; the first line of its output (stdout, else
//! stderr) is logged and shown in `show tunnels`. It runs as every admin
//! command does (command.rs), killed after [`TIMEOUT`].

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use v6tunnel::{BrokerUpdate, Run};

/// A command still running after this is killed (with its children).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Run `cmd` for `run`; `Ok(first line)` on exit status 0, else `Err(why)`.
pub async fn run(cmd: &str, tunnel: &str, remote: Ipv4Addr, run: &Run) -> Result<String, String> {
    let env = [
        ("V6_TUNNEL", tunnel.to_string()),
        ("V6_LOCAL", run.local.to_string()),
        (
            "V6_PREVIOUS_LOCAL",
            run.previous.map(|a| a.to_string()).unwrap_or_default(),
        ),
        ("V6_REMOTE", remote.to_string()),
    ];
    crate::command::sh(cmd, &env, TIMEOUT).await
}

/// The `Broker:` line of `show tunnels`; `unix_now` and `now` are the same
/// moment on the wall clock and the monotonic clock.
pub fn describe(u: &BrokerUpdate, now: Instant, unix_now: u64) -> String {
    let at = |t: Instant| {
        v6control::tunnel::utc(unix_now.saturating_sub(now.saturating_duration_since(t).as_secs()))
    };
    match u.last() {
        None => "not told yet".into(),
        Some(o) if o.ok => {
            let detail = if o.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", o.detail)
            };
            format!("told {} at {}{detail}", o.local, at(o.at))
        }
        Some(o) => {
            let retry = match u.next_wakeup(now) {
                Some(t) => format!(
                    "; next try in {} s",
                    t.saturating_duration_since(now).as_secs()
                ),
                None => "; trying again".into(),
            };
            let told = u
                .announced()
                .map(|a| format!("; last told {a}"))
                .unwrap_or_default();
            format!(
                "telling {} failed at {}: {}{told}{retry}",
                o.local,
                at(o.at),
                o.detail
            )
        }
    }
}

#[cfg(test)]
mod tests;
