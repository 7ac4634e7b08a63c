//! v6routerd: Router Advertisements, a DHCPv6 server, RIPng and 6in4 tunnels
//! for IPv6 routers, in one daemon. See docs/ARCHITECTURE.md.

mod broker_update;
mod check;
mod command;
mod control;
mod dhcp_relay;
mod dhcpv6;
mod events;
mod heap;
mod import_uci;
mod kernel_side;
mod metrics;
mod neighbours;
mod prefixes;
mod privs;
mod ra;
mod ripng;
mod rivals;
mod rt_show;
mod service;
mod state;
mod supervisor;
#[cfg(test)]
mod testkit;
mod tunnel;
mod uplink;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: v6routerd [-c FILE] [-v]...      run the daemon (default FILE /etc/v6router.toml)
       v6routerd check [-c FILE]        validate FILE and print lints
       v6routerd [-c FILE] import-leases --from isc|kea LEASEFILE [--interface NAME] [--dry-run]
       v6routerd import-uci [--dir DIR] [--strict]   print OpenWrt's network+dhcp as v6router.toml
       v6routerd --version | --help";

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

struct Args {
    config: PathBuf,
    verbose: u8,
    check: bool,
    /// `import-leases` and its arguments (dhcpv6::import_main).
    import: Option<Vec<String>>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        config: PathBuf::from("/etc/v6router.toml"),
        verbose: 0,
        check: false,
        import: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-c" | "--config" => a.config = it.next().ok_or("-c needs a file name")?.into(),
            "-v" | "--verbose" => a.verbose += 1,
            "-vv" => a.verbose += 2,
            "check" => a.check = true,
            "import-leases" => a.import = Some(it.by_ref().collect()),
            "import-uci" => std::process::exit(import_uci::main(it.by_ref().collect())),
            "-V" | "--version" => {
                println!("v6routerd {VERSION}");
                std::process::exit(0);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    // Multi-call binary, as busybox: called as `v6ctl` (the package's
    // /usr/sbin/v6ctl -> v6routerd symlink) it is v6ctl.
    let mut argv = std::env::args_os();
    if argv
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(std::path::Path::file_name)
        .is_some_and(|n| n == "v6ctl")
    {
        return v6ctl::main_with(argv.map(|a| a.to_string_lossy().into_owned()));
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("v6routerd: {e}");
            return ExitCode::from(2);
        }
    };
    if args.check {
        return check::run(&args.config);
    }
    if let Some(rest) = &args.import {
        return dhcpv6::import_main(&args.config, rest);
    }
    let loaded = match v6config::load(&args.config) {
        Ok(l) => l,
        Err(d) => {
            eprint!("{d}");
            eprintln!(
                "v6routerd: not started: {} has errors",
                args.config.display()
            );
            return ExitCode::from(1);
        }
    };
    init_logging(&loaded.config.log.level, args.verbose);
    for w in &loaded.warnings {
        tracing::warn!("{}", w.to_string().trim_end());
    }
    for r in rivals::find(&rivals::scan(), &rivals::roles_of(&loaded.config)) {
        tracing::warn!("{r}");
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("v6routerd: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(supervisor::run(args.config, loaded.config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(level: &str, verbose: u8) {
    use tracing::Level;
    let base = match level {
        "error" => Level::ERROR,
        "warn" => Level::WARN,
        "debug" => Level::DEBUG,
        "trace" => Level::TRACE,
        _ => Level::INFO,
    };
    let level = match (base, verbose) {
        (l, 0) => l,
        (Level::TRACE, _) | (_, 2..) => Level::TRACE,
        _ => Level::DEBUG,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false)
        .init();
}
