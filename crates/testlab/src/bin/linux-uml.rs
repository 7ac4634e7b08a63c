//! `linux-uml ARGS...`: `linux.uml ARGS...` under the seccomp filter that
//! lets it boot on hosts with large XSAVE areas (testlab::uml), for shell
//! scripts such as tests/faults/power-cut.sh.

use std::os::unix::process::CommandExt;

fn main() {
    let err = testlab::uml::linux_uml()
        .args(std::env::args_os().skip(1))
        .exec();
    eprintln!("linux-uml: cannot run linux.uml: {err}");
    std::process::exit(127);
}
