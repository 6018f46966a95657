//! House rules, checked by `cargo test` so they cannot drift.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// One migration per change, with the same number and name in both dialects.
#[test]
fn sqlite_and_postgres_migrations_stay_in_step() {
    let root = workspace().join("crates/cityops-store/migrations");
    let sqlite = names(&root.join("sqlite"));
    let postgres = names(&root.join("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

/// The domain does no IO: its dependencies are limited to pure data crates.
#[test]
fn the_domain_crate_depends_on_no_io_crates() {
    let manifest =
        std::fs::read_to_string(workspace().join("crates/cityops-domain/Cargo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&manifest).unwrap();
    // Hashing and signatures are computation, not IO: the audit chain is domain logic.
    let allowed = [
        "chrono",
        "serde",
        "thiserror",
        "toml",
        "csv",
        "sha2",
        "hex",
        "ed25519-dalek",
        "foldhash",
    ];
    for dependency in manifest["dependencies"].as_table().unwrap().keys() {
        assert!(
            allowed.contains(&dependency.as_str()),
            "cityops-domain must not depend on {dependency}"
        );
    }
}

/// Geometry is pure too: it gets GeoJSON text, never a file.
#[test]
fn the_geo_crate_depends_on_no_io_crates() {
    let manifest =
        std::fs::read_to_string(workspace().join("crates/cityops-geo/Cargo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&manifest).unwrap();
    for dependency in manifest["dependencies"].as_table().unwrap().keys() {
        assert!(
            ["geo", "rand", "rstar", "serde_json", "thiserror"].contains(&dependency.as_str()),
            "cityops-geo must not depend on {dependency}"
        );
    }
}

/// Dependencies point down: domain, geo <- store <- telemetry <- api <- cityops.
#[test]
fn crate_dependencies_point_down_only() {
    let layers = [
        "cityops-domain",
        "cityops-geo",
        "cityops-store",
        "cityops-telemetry",
        "cityops-api",
        "cityops",
    ];
    for (level, name) in layers.iter().enumerate() {
        let manifest =
            std::fs::read_to_string(workspace().join(format!("crates/{name}/Cargo.toml"))).unwrap();
        let manifest: toml::Table = toml::from_str(&manifest).unwrap();
        for above in &layers[level + 1..] {
            assert!(
                !manifest["dependencies"]
                    .as_table()
                    .unwrap()
                    .contains_key(*above),
                "{name} must not depend on {above}"
            );
        }
    }
}

/// Only the binary reads the environment or installs a tracing subscriber.
#[test]
fn libraries_neither_read_the_environment_nor_install_subscribers() {
    for name in [
        "cityops-domain",
        "cityops-geo",
        "cityops-telemetry",
        "cityops-api",
    ] {
        for file in rust_files(&workspace().join(format!("crates/{name}/src"))) {
            let text = std::fs::read_to_string(&file).unwrap();
            for banned in ["std::env::var", "tracing_subscriber", "set_global_default"] {
                assert!(!text.contains(banned), "{} uses {banned}", file.display());
            }
        }
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
