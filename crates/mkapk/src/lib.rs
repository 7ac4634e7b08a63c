//! `mkapk`: writes and reads apk-tools v3 packages (the `.apk` of OpenWrt
//! 25.12 and later; apk-v3(5), apk-package(5)) without apk-tools.
//!
//! A build tool only: `packaging/apk.sh` uses its `v6-mkapk` binary when no
//! apk-tools v3 `apk` is on PATH, and `tests/packaging/check.sh` reads the
//! packages back with it. Nothing here is shipped in the packages.
//!
//! - [`adb`]: the ADB container (values, deduplicating writer, blocks, reader).
//! - [`package`]: the `pckg` schema, [`package::build`] (metadata + tree ->
//!   bytes, the layout `apk mkpkg` writes) and [`package::parse`].
//!
//! Verified against apk-tools' own code: the writer's ADB block and data
//! blocks are byte-identical to those `apk mkpkg` produced for the fixture
//! in `tests/fixtures/` (see its README), and packages from this writer are
//! read and extracted by apk-tools' reader (`extract_v3.c`).

pub mod adb;
pub mod package;

pub use package::{build, parse, Meta, Node, Tree};
