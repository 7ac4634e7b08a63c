//! Keeping odhcpd's lease file (leasefile.rs) current, and running the
//! `lease_trigger` after it changed, as odhcpd does for LuCI and dnsmasq.
//!
//! The service marks the file stale whenever the engine persists records
//! (grants, renewals, releases, expiries) or the configuration changes.
//! It hands a snapshot of the leases to a worker task [`SETTLE`] after the
//! first change, and at most once per [`MIN_GAP`], so a burst of exchanges
//! is one write and every change is in the file within a second. The
//! worker renders the file off the event loop, writes it to `.NAME` in the
//! same directory and renames it into place (readers see the old file or
//! the new one; dnsmasq's inotify skips dot files), and skips the write
//! when nothing changed. No fsync: the file is made again from the lease
//! journal at every start.
//!
//! The trigger runs with `sh -c` after a write that changed the hosts lines
//! (odhcpd's rule: an md5 of the named addresses) and after the first
//! write; never two at once (a change while it runs makes one more run
//! after it), killed after [`TRIGGER_TIMEOUT`]; a failure is logged.

use super::leasefile::{bindings, render, Naming, Rendered};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, warn, Instrument, Span};
use v6config::Dhcpv6State;
use v6dhcp::lease::Lease;

/// From the first change to the write: lets a burst settle.
const SETTLE: Duration = Duration::from_millis(200);
/// Between two writes at least this: a busy server writes once a second.
const MIN_GAP: Duration = Duration::from_secs(1);
/// A trigger still running after this is killed with its children.
pub const TRIGGER_TIMEOUT: Duration = Duration::from_secs(10);

/// What the worker renders: the leases at `unix`, with their names.
pub struct Snapshot {
    pub leases: Vec<Lease>,
    pub naming: Naming,
    pub unix: u64,
}

/// The service's side: when the next snapshot is due.
pub struct Publisher {
    cfg: Dhcpv6State,
    due: Option<Instant>,
    last: Option<Instant>,
    tx: mpsc::UnboundedSender<Snapshot>,
}

impl Publisher {
    /// Start the worker for `cfg`; the first snapshot is due at once.
    pub fn start(cfg: &Dhcpv6State) -> Publisher {
        let (tx, rx) = mpsc::unbounded_channel();
        let w = Worker {
            path: cfg.lease_file.clone(),
            trigger: cfg.lease_trigger.clone(),
            written: None,
            last_error: None,
        };
        tokio::spawn(w.run(rx).instrument(Span::current()));
        let mut p = Publisher {
            cfg: cfg.clone(),
            due: None,
            last: None,
            tx,
        };
        p.changed(Instant::now());
        p
    }

    pub fn config(&self) -> &Dhcpv6State {
        &self.cfg
    }

    /// The leases or their names changed at `now`.
    pub fn changed(&mut self, now: Instant) {
        if self.due.is_none() {
            self.due = Some(next_due(now, self.last));
        }
    }

    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// True (once) when a snapshot is due at `now`.
    pub fn take_due(&mut self, now: Instant) -> bool {
        match self.due {
            Some(t) if t <= now => {
                self.due = None;
                self.last = Some(now);
                true
            }
            _ => false,
        }
    }

    pub fn publish(&self, s: Snapshot) {
        // The worker ends only with the channel, which we hold.
        let _ = self.tx.send(s);
    }
}

/// When a change at `now` is written: after SETTLE, and MIN_GAP after the
/// last write; so at most MIN_GAP after the change.
fn next_due(now: Instant, last: Option<Instant>) -> Instant {
    let settled = now + SETTLE;
    match last {
        Some(l) => settled.max(l + MIN_GAP),
        None => settled,
    }
}

/// The worker's side: writing and triggering.
struct Worker {
    path: PathBuf,
    trigger: Option<String>,
    /// What the file holds now (None: not written by us yet).
    written: Option<Rendered>,
    /// The last write error, logged once until it changes.
    last_error: Option<String>,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Snapshot>) {
        let mut running: Option<JoinHandle<()>> = None;
        let mut wanted = false;
        loop {
            tokio::select! {
                s = rx.recv() => match s {
                    Some(s) => wanted |= self.write(latest(s, &mut rx)).await,
                    // A running trigger finishes on its own.
                    None => return,
                },
                _ = finished(&mut running) => running = None,
            }
            if wanted && running.is_none() {
                wanted = false;
                running = self.trigger.clone().map(|t| tokio::spawn(trigger(t)));
            }
        }
    }

    /// Render and write `s` if it differs from the file; true when its
    /// hosts lines changed (the trigger is due).
    async fn write(&mut self, s: Snapshot) -> bool {
        let path = self.path.clone();
        let prev = self.written.take();
        let job = move || {
            let r = render(&bindings(&s.leases, s.unix, &s.naming));
            let res = match &prev {
                Some(p) if p.text == r.text => Ok(()),
                _ => replace(&path, r.text.as_bytes()),
            };
            (prev, r, res)
        };
        let (prev, r, res) = match tokio::task::spawn_blocking(job).await {
            Ok(x) => x,
            Err(e) => {
                warn!("lease file: {e}");
                return false;
            }
        };
        match res {
            Ok(()) => {
                self.last_error = None;
                let hosts_changed = prev.as_ref().map(|p| &p.hosts) != Some(&r.hosts);
                debug!("lease file {} current", self.path.display());
                self.written = Some(r);
                hosts_changed
            }
            Err(e) => {
                // What the file holds is unknown: the next write is whole.
                let e = format!("cannot write the lease file {}: {e}", self.path.display());
                if self.last_error.as_ref() != Some(&e) {
                    warn!("{e}");
                }
                self.last_error = Some(e);
                false
            }
        }
    }
}

/// Resolves when the running trigger ends; never when none runs.
async fn finished(running: &mut Option<JoinHandle<()>>) {
    match running {
        Some(h) => {
            let _ = h.await;
        }
        None => std::future::pending().await,
    }
}

/// The newest of the snapshots queued (older ones are superseded).
fn latest(mut s: Snapshot, rx: &mut mpsc::UnboundedReceiver<Snapshot>) -> Snapshot {
    while let Ok(n) = rx.try_recv() {
        s = n;
    }
    s
}

/// Write `data` to `.NAME` beside `path` and rename it over `path`,
/// making the directory first (as odhcpd does: /tmp/hosts may not exist
/// before dnsmasq starts). Not `v6common::durable`: this file is a view
/// rebuilt from the journal at every start and lives on tmpfs, so an fsync
/// buys nothing; the temporary name starts with a dot because dnsmasq's
/// `--hostsdir` reads every other file in the directory.
fn replace(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir)?;
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(path.file_name().unwrap_or_default());
    let tmp = dir.join(tmp);
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

async fn trigger(cmd: String) {
    match crate::command::sh(&cmd, &[], TRIGGER_TIMEOUT).await {
        Ok(_) => debug!("lease trigger `{cmd}` ran"),
        Err(e) => warn!("lease trigger `{cmd}` failed: {e}"),
    }
}

#[cfg(test)]
mod tests;
