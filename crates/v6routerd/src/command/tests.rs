use super::*;
use std::time::Instant;

#[tokio::test(flavor = "current_thread")]
async fn a_hanging_command_is_killed_with_its_children() {
    let dir = std::env::temp_dir().join(format!("v6cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let marker = dir.join("late");
    let t0 = Instant::now();
    // The child of the shell would touch the marker after 2 s.
    let cmd = format!("(sleep 2; touch {}) & sleep 30", marker.display());
    let r = sh(&cmd, &[], Duration::from_millis(300)).await;
    assert_eq!(r, Err("still running after 0 s: killed".into()));
    assert!(t0.elapsed() < Duration::from_secs(2));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!marker.exists(), "the background child was killed too");
    let _ = std::fs::remove_dir_all(&dir);
}
