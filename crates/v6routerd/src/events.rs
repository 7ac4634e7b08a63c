//! The event bus of `v6ctl monitor`: one `broadcast` channel owned by the
//! supervisor. Services publish from one place each; every monitor
//! subscribes. A broadcast sender never waits for its receivers, so a slow
//! reader cannot slow the daemon: it falls behind by more than `CAPACITY`
//! events, loses them, and is cut off with a last line saying so.

use tokio::sync::broadcast;
use v6control::monitor::{Event, StreamLine};

/// Events a monitor may fall behind before it is cut off.
pub const CAPACITY: usize = 1024;

pub type Bus = broadcast::Sender<Event>;

pub fn bus() -> Bus {
    broadcast::channel(CAPACITY).0
}

/// The next line for a monitor of `topic`; after an `End` the stream stops.
pub async fn next_line(rx: &mut broadcast::Receiver<Event>, topic: &str) -> StreamLine {
    loop {
        match rx.recv().await {
            Ok(e) if e.wanted_by(topic) => return StreamLine::Event(e),
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(n)) => {
                return StreamLine::End(format!(
                "cut off: this monitor fell {n} events behind (it reads slower than events happen)"
            ))
            }
            Err(broadcast::error::RecvError::Closed) => {
                return StreamLine::End("the daemon is stopping".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(topic: &str, n: u64) -> Event {
        Event {
            topic: topic.into(),
            time_ms: n,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_slow_reader_is_cut_off_and_the_sender_never_waits() {
        let (tx, mut rx) = broadcast::channel(4);
        // The sender goes on whatever the reader does.
        for n in 0..10 {
            let _ = tx.send(ev("leases", n));
        }
        match next_line(&mut rx, "all").await {
            StreamLine::End(why) => assert!(why.contains("fell 6 events behind"), "{why}"),
            other => panic!("not cut off: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_reader_that_keeps_up_gets_its_topic_only() {
        let (tx, mut rx) = broadcast::channel(4);
        let _ = tx.send(ev("routes", 1));
        let _ = tx.send(ev("leases", 2));
        assert_eq!(
            next_line(&mut rx, "leases").await,
            StreamLine::Event(ev("leases", 2))
        );
        drop(tx);
        assert!(matches!(
            next_line(&mut rx, "all").await,
            StreamLine::End(_)
        ));
    }
}
