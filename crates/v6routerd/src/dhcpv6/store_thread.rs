//! The lease journal's own thread: group commit (one append and one fsync
//! for many packets' worth of records), then the replies that waited for
//! it; compaction in the background. See the module doc of `dhcpv6` for
//! the durability rule.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as stdmpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, Span};
use v6dhcp::io::{send_many_blocking, Outgoing};
use v6dhcp::lease::{Lease, LeaseRecord};
use v6dhcp::store::{Journal, LoadReport};

/// Under load, how long the store thread gathers records before an fsync.
const COMMIT_DELAY: Duration = Duration::from_millis(2);
/// Commit at once when this many records are waiting.
const GATHER_MAX: usize = 256;
/// While a compaction runs, move it on at least this often.
const COMPACTION_POLL: Duration = Duration::from_millis(50);
/// How long stopping waits for the last commit.
const STOP_WAIT: Duration = Duration::from_millis(800);

/// Counters the store thread shares with the service: 64-bit, behind a
/// mutex rather than in `AtomicU64`, which 32-bit MIPS (OpenWrt's
/// mips_24kc and mipsel_24kc, max atomic width 32) does not have. Updated
/// once per commit and read once per batch or `show`, so the lock is
/// uncontended and cheap.
#[derive(Default)]
pub(super) struct StoreCounters {
    stats: Mutex<StoreStats>,
    pub compacting: AtomicBool,
}

#[derive(Default, Clone, Copy)]
pub(super) struct StoreStats {
    pub size: u64,
    pub records: u64,
    pub commits: u64,
    pub commit_failures: u64,
    pub compactions: u64,
    /// Replies dropped because their records could not be made durable;
    /// taken by the service into the engine's drop counter.
    pub dropped_replies: u64,
}

impl StoreCounters {
    /// Change the counters. A poisoned lock still holds valid numbers
    /// (plain integers), so it is used as it is.
    pub fn update<R>(&self, f: impl FnOnce(&mut StoreStats) -> R) -> R {
        f(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn get(&self) -> StoreStats {
        self.update(|s| *s)
    }
}

pub(super) struct Reply {
    pub data: Vec<u8>,
    pub dst: std::net::SocketAddrV6,
    pub ifindex: u32,
}

pub(super) enum StoreCmd {
    Commit {
        records: Vec<LeaseRecord>,
        replies: Vec<Reply>,
    },
    Compact(Vec<Lease>),
    Stop(oneshot::Sender<()>),
}

/// The service's side of the store thread.
pub(super) struct Store {
    pub tx: stdmpsc::Sender<StoreCmd>,
    pub counters: Arc<StoreCounters>,
    /// Records the thread could not write (their replies were dropped).
    pub failed_rx: mpsc::UnboundedReceiver<Vec<LeaseRecord>>,
    thread: std::thread::JoinHandle<()>,
    pub journal_path: PathBuf,
    pub load_corrupt: u64,
    pub load_torn: u64,
}

impl Store {
    /// Start the thread that owns `journal` and sends the durable replies
    /// through `send_fd`. Its log lines carry the caller's span.
    pub fn spawn(
        journal: Journal,
        report: &LoadReport,
        send_fd: OwnedFd,
        journal_path: PathBuf,
    ) -> Result<Store, String> {
        let counters = Arc::new(StoreCounters::default());
        let (tx, rx) = stdmpsc::channel();
        let (failed_tx, failed_rx) = mpsc::unbounded_channel();
        let c = counters.clone();
        let span = Span::current();
        let thread = std::thread::Builder::new()
            .name("dhcpv6-store".into())
            .spawn(move || {
                let _span = span.enter();
                store_loop(journal, rx, send_fd, c, failed_tx);
            })
            .map_err(|e| format!("cannot start the store thread: {e}"))?;
        Ok(Store {
            tx,
            counters,
            failed_rx,
            thread,
            journal_path,
            load_corrupt: report.corrupt_records as u64,
            load_torn: report.torn_tail_bytes as u64,
        })
    }

    /// Ask the thread to commit what it holds, finish a compaction and
    /// stop; wait for that a little (a stuck disk must not hold up the
    /// rest of stopping). Returns the thread, for [`join`].
    pub async fn stop(self) -> std::thread::JoinHandle<()> {
        let (ack_tx, ack_rx) = oneshot::channel();
        let _ = self.tx.send(StoreCmd::Stop(ack_tx));
        let _ = tokio::time::timeout(STOP_WAIT, ack_rx).await;
        self.thread
    }
}

/// Wait for the store thread to end, off the runtime's thread.
pub(super) async fn join(thread: std::thread::JoinHandle<()>) {
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
}

/// Send and clear a batch of replies: one sendmmsg per 64 instead of one
/// sendmsg each. The service sends those that wait for nothing (Advertise,
/// Reply to Information-request, status-only replies) at the end of each
/// batch of datagrams; the store thread those it made durable.
pub(super) fn send_replies(fd: RawFd, replies: &mut Vec<Reply>, timeout_ms: i32) {
    if replies.is_empty() {
        return;
    }
    let out: Vec<Outgoing<'_>> = replies
        .iter()
        .map(|r| Outgoing {
            data: &r.data,
            dst: r.dst,
            ifindex: r.ifindex,
        })
        .collect();
    send_many_blocking(fd, &out, timeout_ms);
    replies.clear();
}

/// The store thread: group commit, then send what waited for it.
fn store_loop(
    j: Journal,
    rx: stdmpsc::Receiver<StoreCmd>,
    fd: OwnedFd,
    c: Arc<StoreCounters>,
    failed: mpsc::UnboundedSender<Vec<LeaseRecord>>,
) {
    c.update(|s| s.size = j.size());
    let t = StoreThread {
        j,
        rx,
        fd,
        c,
        failed,
        records: Vec::new(),
        replies: Vec::new(),
        last_commit: Instant::now()
            .checked_sub(COMMIT_DELAY)
            .unwrap_or_else(Instant::now),
    };
    t.run();
}

/// What wakes the store thread.
enum Wake {
    Cmd(StoreCmd),
    /// Nothing came, but a compaction runs: move it on.
    Tick,
    /// The service is gone.
    Gone,
}

struct StoreThread {
    j: Journal,
    rx: stdmpsc::Receiver<StoreCmd>,
    fd: OwnedFd,
    c: Arc<StoreCounters>,
    failed: mpsc::UnboundedSender<Vec<LeaseRecord>>,
    /// Records gathered for the next commit, and the replies behind them.
    records: Vec<LeaseRecord>,
    replies: Vec<Reply>,
    last_commit: Instant,
}

impl StoreThread {
    fn run(mut self) {
        loop {
            let first = match self.wait() {
                Wake::Cmd(cmd) => Some(cmd),
                Wake::Tick => None,
                Wake::Gone => return,
            };
            let stop = self.gather(first);
            self.commit();
            self.last_commit = Instant::now();
            self.poll_compaction();
            if let Some(ack) = stop {
                if let Err(e) = self.j.finish_compaction() {
                    error!("compaction of {} failed: {e}", self.j.path().display());
                }
                let _ = ack.send(());
                return;
            }
        }
    }

    /// The command that starts the next group.
    fn wait(&self) -> Wake {
        if self.j.compacting() {
            match self.rx.recv_timeout(COMPACTION_POLL) {
                Ok(cmd) => Wake::Cmd(cmd),
                Err(stdmpsc::RecvTimeoutError::Timeout) => Wake::Tick,
                Err(stdmpsc::RecvTimeoutError::Disconnected) => Wake::Gone,
            }
        } else {
            match self.rx.recv() {
                Ok(cmd) => Wake::Cmd(cmd),
                Err(_) => Wake::Gone,
            }
        }
    }

    /// Take everything queued now, `first` first: one fsync for all of it.
    /// Under load (the last commit ended a moment ago: more are coming),
    /// also wait up to COMMIT_DELAY for more, as PostgreSQL's commit_delay
    /// does: at 2,000 Requests/s on a virtio disk this takes the fsyncs
    /// from ~1,200/s to a few hundred, about half the server's CPU, for
    /// 2 ms more before a Reply (against a client's 1 s REQ_TIMEOUT, RFC
    /// 8415 §7.6). A lone Request, nothing committed lately, does not wait.
    /// Returns the acknowledgement of a Stop, which ends the group.
    fn gather(&mut self, first: Option<StoreCmd>) -> Option<oneshot::Sender<()>> {
        let until =
            (self.last_commit.elapsed() < COMMIT_DELAY).then(|| Instant::now() + COMMIT_DELAY);
        let mut next = first;
        loop {
            let cmd = next.take().or_else(|| self.next_queued(until))?;
            match cmd {
                StoreCmd::Commit { records, replies } => {
                    self.records.extend(records);
                    self.replies.extend(replies);
                }
                StoreCmd::Compact(snapshot) => {
                    // The snapshot was taken after everything queued before it.
                    self.commit();
                    self.j.begin_compaction(snapshot);
                }
                StoreCmd::Stop(ack) => return Some(ack),
            }
        }
    }

    /// A command queued now; if none and the group gathers `until` a time
    /// that has not come (and is not full), one queued by then.
    fn next_queued(&self, until: Option<Instant>) -> Option<StoreCmd> {
        if let Ok(cmd) = self.rx.try_recv() {
            return Some(cmd);
        }
        let left = until?.saturating_duration_since(Instant::now());
        if left.is_zero() || self.records.len() >= GATHER_MAX {
            return None;
        }
        // Sleep out the window, then take what came: waiting on the
        // channel instead would wake this thread (and make the service
        // thread's send a futex wake) once per datagram; this is one wake
        // per group.
        std::thread::sleep(left);
        self.rx.try_recv().ok()
    }

    /// Append and fsync what was gathered; send its replies if that
    /// worked, else drop them and hand the records back to be forgotten.
    fn commit(&mut self) {
        if self.records.is_empty() && self.replies.is_empty() {
            return;
        }
        let c = &self.c;
        match self.j.append(&self.records) {
            Ok(()) => {
                c.update(|s| {
                    s.commits += 1;
                    s.records += self.records.len() as u64;
                });
                send_replies(self.fd.as_raw_fd(), &mut self.replies, 100);
            }
            Err(e) => {
                c.update(|s| {
                    s.commit_failures += 1;
                    s.dropped_replies += self.replies.len() as u64;
                });
                error!(
                    "cannot write leases to {}: {e}; {} replies not sent",
                    self.j.path().display(),
                    self.replies.len()
                );
                self.replies.clear();
                // The service forgets these grants (never a lease in memory
                // or in `show leases` that is not on disk).
                let _ = self.failed.send(std::mem::take(&mut self.records));
            }
        }
        self.records.clear();
        let ended = !self.j.compacting() && c.compacting.swap(false, Ordering::Relaxed);
        c.update(|s| {
            s.size = self.j.size();
            s.compactions += u64::from(ended);
        });
    }

    /// Move a running compaction on; count it when it ends.
    fn poll_compaction(&mut self) {
        let c = &self.c;
        if let Err(e) = self.j.poll_compaction() {
            error!("compaction of {} failed: {e}", self.j.path().display());
            c.compacting.store(false, Ordering::Relaxed);
        } else if !self.j.compacting() && c.compacting.swap(false, Ordering::Relaxed) {
            c.update(|s| {
                s.compactions += 1;
                s.size = self.j.size();
            });
        }
    }
}
