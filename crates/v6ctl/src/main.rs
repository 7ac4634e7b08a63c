//! The stand-alone v6ctl (the OpenWrt package uses v6routerd's copy of it:
//! see lib.rs).

fn main() -> std::process::ExitCode {
    v6ctl::main_with(std::env::args().skip(1))
}
