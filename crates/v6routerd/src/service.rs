//! What the supervisor gives each protocol service, and how services are
//! started. A service is one tokio task per protocol (`ra`, `dhcpv6`, `ripng`,
//! `tunnel`, ...) with this signature:
//!
//! ```ignore
//! pub async fn run(ctx: ServiceCtx)
//! ```
//!
//! It must:
//! - run whether or not its config section exists (a reload may turn it on or
//!   off), reading `ctx.config` each time it changes;
//! - follow `ctx.kernel` (links, addresses, routes, forwarding), never read
//!   facts once at start;
//! - answer every `Query` on `ctx.queries` promptly (the supervisor waits 2 s),
//!   with a `Response` whose data the matching renderer in `v6control` reads;
//! - when `ctx.shutdown` turns true, do its final work (final RA, remove its
//!   routes, flush its store) and return within about 1 s.
//!
//! To add a service: `mod x;` in main.rs and one `spawn_service` line in
//! `Supervisor::spawn_services`.

// Parts of this interface are only used once a service is attached.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};
use v6common::KernelView;
use v6config::Config;
use v6control::{ProtocolInfo, Request, Response};
use v6netlink::Kernel;

/// One v6ctl request routed to a service.
pub struct Query {
    pub request: Request,
    pub reply: oneshot::Sender<Response>,
}

pub struct ServiceCtx {
    pub name: &'static str,
    /// The current kernel view; `changed().await` wakes on every update.
    pub kernel: watch::Receiver<Arc<KernelView>>,
    /// The current configuration; changes on a successful reload.
    pub config: watch::Receiver<Arc<Config>>,
    /// Requests to the kernel (routes, addresses, links).
    pub netlink: Kernel,
    pub queries: mpsc::Receiver<Query>,
    /// Turns true once, when the daemon stops (not on reload).
    pub shutdown: watch::Receiver<bool>,
    /// Where the service keeps state across restarts (exists, created at start).
    pub state_dir: PathBuf,
    /// Publish this service's row of `v6ctl show protocols`.
    pub protocol: watch::Sender<Option<ProtocolInfo>>,
}

impl ServiceCtx {
    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }
    /// The current kernel view.
    pub fn kernel(&self) -> Arc<KernelView> {
        self.kernel.borrow().clone()
    }
    /// Answer a query that this service does not know (should not happen).
    pub fn unknown(q: Query) {
        let _ = q.reply.send(Response::error(format!(
            "this service does not answer {:?}",
            q.request
        )));
    }
}
