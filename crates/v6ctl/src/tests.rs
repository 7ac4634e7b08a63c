use super::*;

#[test]
fn session_lines() {
    assert_eq!(session_line("\n"), Line::Nothing);
    assert_eq!(session_line("  # a comment\n"), Line::Nothing);
    assert_eq!(session_line("quit\n"), Line::Quit);
    assert_eq!(session_line("exit"), Line::Quit);
    assert_eq!(session_line("?\n"), Line::Help);
    assert_eq!(session_line(" help "), Line::Help);
    assert_eq!(
        session_line("show route count # how many\n"),
        Line::Command(vec!["show", "route", "count"])
    );
    // `help show` is a command: parse_command answers it with HELP.
    assert_eq!(
        session_line("help show"),
        Line::Command(vec!["help", "show"])
    );
}

#[test]
fn a_missing_daemon_is_named_as_such() {
    let e = ask("/nonexistent/v6t.sock", &Request::ShowStatus).unwrap_err();
    assert!(e.contains("v6routerd is not running"), "{e}");
    assert!(e.contains("-s PATH"), "{e}");
}
