//! The config loader: any bytes -> a config or a diagnostic, never a panic.
//! The diagnostic is rendered too (line/column/caret code slices the source).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // Non-UTF-8 files are read with read_to_string, which fails cleanly; the
    // parser itself sees text, so feed it the lossy decoding.
    let src = String::from_utf8_lossy(data);
    match v6config::parse(&src, Path::new("fuzz.toml")) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                let _ = w.to_string();
            }
        }
        Err(diags) => {
            assert!(diags.has_errors(), "an Err carries at least one error");
            let _ = diags.to_string();
        }
    }
});
