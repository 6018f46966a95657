//! Key custody: the personal-data and audit-signing keys never live in the data directory
//! (a backup of the data must not carry the keys that unseal it), a key file others may read
//! stops CityOps, and keys may come from the environment instead of files.

use std::path::{Path, PathBuf};
use std::process::Output;

/// `cityops ARGS --data-dir DIR/data` with `env`, as an operator would run it.
fn cityops(root: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cityops"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(root.join("data"))
        .env("CITYOPS_LOG_FILTER", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn refused(output: &Output) -> String {
    assert!(!output.status.success(), "accepted");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Opens the store (creating the personal-data key) and signs a checkpoint (creating the
/// audit key).
fn start(root: &Path, env: &[(&str, String)]) -> [Output; 2] {
    [
        cityops(root, &["pii", "reseal"], env),
        cityops(root, &["audit", "checkpoint"], env),
    ]
}

fn key_files(root: &Path) -> [PathBuf; 2] {
    let keys = root.join("data.keys");
    [keys.join("pii.keys"), keys.join("audit-signing.key")]
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Names of the files the data directory holds, recursively.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            names.extend(files_in(&entry.path()));
        } else {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names
}

#[test]
fn keys_are_created_beside_the_data_directory_and_only_their_owner_may_read_them() {
    let root = tempfile::tempdir().unwrap();
    start(root.path(), &[]).iter().for_each(succeeded);
    let data = files_in(&root.path().join("data"));
    assert!(data.iter().any(|name| name == "cityops.db"), "{data:?}");
    assert!(
        !data.iter().any(|name| name.contains("key")),
        "no key in the data directory: {data:?}"
    );
    for key in key_files(root.path()) {
        assert!(key.exists(), "{} was created", key.display());
        #[cfg(unix)]
        assert_eq!(mode(&key), 0o600, "{}", key.display());
    }
    #[cfg(unix)]
    assert_eq!(mode(&root.path().join("data.keys")), 0o700);
}

#[cfg(unix)]
#[test]
fn a_key_file_others_may_read_stops_cityops_and_changes_nothing() {
    let root = tempfile::tempdir().unwrap();
    start(root.path(), &[]).iter().for_each(succeeded);
    let [pii, audit] = key_files(root.path());
    let before = std::fs::read(&pii).unwrap();

    set_mode(&pii, 0o644);
    let error = refused(&cityops(root.path(), &["pii", "rotate"], &[]));
    assert!(error.contains(&pii.display().to_string()), "{error}");
    assert!(error.contains("chmod 600"), "{error}");
    assert_eq!(std::fs::read(&pii).unwrap(), before, "no key was added");
    set_mode(&pii, 0o600);

    set_mode(&audit, 0o640);
    let error = refused(&cityops(root.path(), &["audit", "checkpoint"], &[]));
    assert!(error.contains(&audit.display().to_string()), "{error}");
    set_mode(&audit, 0o600);
    start(root.path(), &[]).iter().for_each(succeeded);
}

#[test]
fn keys_that_earlier_versions_kept_in_the_data_directory_move_out_of_it() {
    let root = tempfile::tempdir().unwrap();
    start(root.path(), &[]).iter().for_each(succeeded);
    let keys = key_files(root.path());
    let contents: Vec<Vec<u8>> = keys.iter().map(|k| std::fs::read(k).unwrap()).collect();
    // The layout of earlier versions: both keys in the data directory.
    for key in &keys {
        std::fs::rename(key, root.path().join("data").join(key.file_name().unwrap())).unwrap();
    }
    start(root.path(), &[]).iter().for_each(succeeded);
    for (key, content) in keys.iter().zip(&contents) {
        assert_eq!(&std::fs::read(key).unwrap(), content, "the same key, moved");
    }
    let data = files_in(&root.path().join("data"));
    assert!(!data.iter().any(|name| name.contains("key")), "{data:?}");
}

#[test]
fn a_key_file_configured_inside_the_data_directory_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let inside = root.path().join("data").join("secrets").join("pii.keys");
    let error = refused(&cityops(
        root.path(),
        &["pii", "reseal"],
        &[("CITYOPS_PII_KEY_FILE", inside.display().to_string())],
    ));
    assert!(error.contains("inside the data directory"), "{error}");
    assert!(!inside.exists());
    // A symbolic link does not hide it either.
    std::fs::create_dir_all(root.path().join("data")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.path().join("data"), root.path().join("alias")).unwrap();
        let error = refused(&cityops(
            root.path(),
            &["audit", "checkpoint"],
            &[(
                "CITYOPS_KEY_DIR",
                root.path().join("alias").display().to_string(),
            )],
        ));
        assert!(error.contains("inside the data directory"), "{error}");
    }
}

#[test]
fn keys_from_the_environment_leave_no_key_file_anywhere() {
    let root = tempfile::tempdir().unwrap();
    let env = [
        ("CITYOPS_PII_KEYS", format!("k1 {}", "ab".repeat(32))),
        ("CITYOPS_AUDIT_KEY", "cd".repeat(32)),
    ];
    start(root.path(), &env).iter().for_each(succeeded);
    assert!(!root.path().join("data.keys").exists());
    let data = files_in(&root.path().join("data"));
    assert!(!data.iter().any(|name| name.contains("key")), "{data:?}");
    let error = refused(&cityops(
        root.path(),
        &["audit", "checkpoint"],
        &[("CITYOPS_AUDIT_KEY", "hunter2-secret".into())],
    ));
    assert!(error.contains("audit_key"), "{error}");
    assert!(
        !error.contains("hunter2"),
        "a secret is never echoed: {error}"
    );
}
