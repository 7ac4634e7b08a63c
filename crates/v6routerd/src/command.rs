//! Running an admin's command: a tunnel's `update_command`
//! (broker_update.rs) and the DHCPv6 `lease_trigger` (dhcpv6/publish.rs).
//! Both go to `/bin/sh -c` with the daemon's user and, at most, its three
//! capabilities (the bounding set and no_new_privs keep it there), in a
//! process group of their own, killed whole when they outlast their time.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// At most this much of the output line is kept.
const LINE_MAX: usize = 200;

/// Run `cmd` with `sh -c` and `env` added to the daemon's environment;
/// `Ok(first line of output)` on exit status 0, else `Err(why)`. After
/// `timeout` its process group is killed.
pub async fn sh(cmd: &str, env: &[(&str, String)], timeout: Duration) -> Result<String, String> {
    let mut c = Command::new("/bin/sh");
    c.arg("-c")
        .arg(cmd)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = c
        .spawn()
        .map_err(|e| format!("cannot start /bin/sh: {e}"))?;
    let pgid = child.id() as libc::pid_t;
    let wait = tokio::task::spawn_blocking(move || child.wait_with_output());
    match tokio::time::timeout(timeout, wait).await {
        Ok(Ok(Ok(out))) => {
            let line = first_line(&out.stdout)
                .or_else(|| first_line(&out.stderr))
                .unwrap_or_default();
            if out.status.success() {
                Ok(line)
            } else if line.is_empty() {
                Err(out.status.to_string())
            } else {
                Err(format!("{}: {line}", out.status))
            }
        }
        Ok(Ok(Err(e))) => Err(format!("waiting for it: {e}")),
        Ok(Err(e)) => Err(format!("waiting for it: {e}")),
        Err(_) => {
            // SAFETY: kill(2) on the process group the child leads; the
            // blocking waiter reaps the child once it is gone.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
            Err(format!(
                "still running after {} s: killed",
                timeout.as_secs()
            ))
        }
    }
}

fn first_line(b: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(b);
    let l = s.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(l.chars().take(LINE_MAX).collect())
}

#[cfg(test)]
mod tests;
