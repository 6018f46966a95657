//! `cityops user add|disable|enable|reset` against the store the server uses.

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn cityops(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cityops"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir.join("data"))
        .env("CITYOPS_LOG_FILTER", "warn")
        .output()
        .unwrap()
}

/// `cityops ARGS --password-stdin` with `password` and a newline on its standard input.
fn cityops_with_password(
    data_dir: &std::path::Path,
    args: &[&str],
    password: &str,
) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cityops"))
        .args(args)
        .arg("--password-stdin")
        .arg("--data-dir")
        .arg(data_dir.join("data"))
        .env("CITYOPS_LOG_FILTER", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        format!("{password}\n").as_bytes(),
    )
    .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn admins_disable_enable_and_reset_users_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let add = cityops_with_password(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "chen",
            "--role",
            "dispatcher",
            "--scope",
            "310101",
        ],
        "first password",
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let refused = cityops_with_password(
        dir.path(),
        &["user", "add", "--username", "wu", "--role", "operator"],
        "short",
    );
    assert!(
        !refused.status.success(),
        "a password under 8 characters is refused"
    );
    for weak in ["wuxiaoming-1", "password1", "abcdefghijk"] {
        let refused = cityops_with_password(
            dir.path(),
            &[
                "user",
                "add",
                "--username",
                "wuxiaoming",
                "--role",
                "operator",
            ],
            weak,
        );
        assert!(!refused.status.success(), "{weak} is refused");
    }
    let no_unit = cityops_with_password(
        dir.path(),
        &["user", "add", "--username", "he", "--role", "unit_handler"],
        "long enough",
    );
    assert!(!no_unit.status.success(), "a unit handler needs a unit");

    // On one worker thread, as an operator leaving a core to a broker would run it.
    let mut server = Command::new(env!("CARGO_BIN_EXE_cityops"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("CITYOPS_LOG_FILTER", "warn")
        .env("CITYOPS_WORKERS", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("CityOps listening on ")
        .unwrap()
        .to_owned();
    let client = reqwest::Client::new();
    let sign_in = |password: &'static str| {
        client
            .post(format!("{base}/api/v1/sessions"))
            .json(&json!({"username": "chen", "password": password}))
            .send()
    };
    let session: serde_json::Value = sign_in("first password")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    assert_eq!(session["user"]["scope"], "310101");

    assert!(
        cityops(dir.path(), &["user", "disable", "--username", "chen"])
            .status
            .success()
    );
    assert_eq!(sign_in("first password").await.unwrap().status(), 401);
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "disabling ends the sessions");
    assert!(
        cityops(dir.path(), &["user", "enable", "--username", "chen"])
            .status
            .success()
    );
    assert_eq!(sign_in("first password").await.unwrap().status(), 201);

    assert!(cityops_with_password(
        dir.path(),
        &["user", "reset", "--username", "chen"],
        "second password"
    )
    .status
    .success());
    assert_eq!(sign_in("first password").await.unwrap().status(), 401);
    assert_eq!(sign_in("second password").await.unwrap().status(), 201);
    assert!(!cityops_with_password(
        dir.path(),
        &["user", "reset", "--username", "nobody"],
        "whatever1"
    )
    .status
    .success());
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn another_city_imports_its_areas_from_csv_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("suzhou.csv");
    std::fs::write(
        &good,
        "\u{feff}code,name,parent_code\n320500,苏州市,\n320508,姑苏区,320500\n320508001,观前街道,320508\n320508001001,察院场社区居委会,320508001\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "code,name,parent_code\n330100,杭州市,\n330102,上城区,330100\n33010,坏代码,330102\n",
    )
    .unwrap();
    let import = |file: &std::path::Path| {
        cityops(
            dir.path(),
            &["import", "areas", "--file", file.to_str().unwrap()],
        )
    };
    let refused = import(&bad);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("line 4"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let imported = import(&good);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(String::from_utf8_lossy(&imported.stdout).contains("imported 4 areas"));
    // The new street exists (a user can be scoped to it); the refused file left nothing.
    let scoped = cityops_with_password(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "gusu",
            "--role",
            "operator",
            "--scope",
            "320508001",
        ],
        "long enough",
    );
    assert!(
        scoped.status.success(),
        "{}",
        String::from_utf8_lossy(&scoped.stderr)
    );
    let missing = cityops_with_password(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "hz",
            "--role",
            "operator",
            "--scope",
            "330100",
        ],
        "long enough",
    );
    assert!(
        !missing.status.success(),
        "nothing of the refused file was imported"
    );
}

/// Starts `cityops serve` on `data_dir/data` (its keys beside it, in the same scratch
/// directory); the child and its base URL.
fn serve(data_dir: &std::path::Path) -> (std::process::Child, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_cityops"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir.join("data"))
        .env("CITYOPS_LOG_FILTER", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("CityOps listening on ")
        .unwrap()
        .to_owned();
    (server, base)
}

/// Writes `text` to `path` with the given Unix mode.
fn write_with_mode(path: &std::path::Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `cityops ARGS --data-dir DIR` on a terminal (`script` from util-linux gives it one), with
/// `typed` as what the person types.
fn cityops_on_a_terminal(
    data_dir: &std::path::Path,
    args: &str,
    typed: &str,
) -> std::process::Output {
    let command = format!(
        "'{}' {args} --data-dir '{}'",
        env!("CARGO_BIN_EXE_cityops"),
        data_dir.join("data").display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("CITYOPS_LOG_FILTER", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (Debian package bsdutils) runs a command on a terminal");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), typed.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn a_password_is_read_from_the_prompt_standard_input_or_an_owner_only_file() {
    let dir = tempfile::tempdir().unwrap();
    let from_stdin = cityops_with_password(
        dir.path(),
        &["user", "add", "--username", "liu", "--role", "operator"],
        "stdin river 1",
    );
    assert!(
        from_stdin.status.success(),
        "{}",
        String::from_utf8_lossy(&from_stdin.stderr)
    );
    let file = dir.path().join("zhao.password");
    write_with_mode(&file, "file river 2\n", 0o600);
    let from_file = cityops(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "zhao",
            "--role",
            "operator",
            "--password-file",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        from_file.status.success(),
        "{}",
        String::from_utf8_lossy(&from_file.stderr)
    );
    // Asked twice: the same answer adds the user, two different ones change nothing.
    let prompted = cityops_on_a_terminal(
        dir.path(),
        "user add --username qian --role operator",
        "prompt river 3\nprompt river 3\n",
    );
    let said = String::from_utf8_lossy(&prompted.stdout);
    assert!(prompted.status.success(), "{said}");
    assert!(said.contains("Password for qian"), "{said}");
    let slipped = cityops_on_a_terminal(
        dir.path(),
        "user reset --username qian",
        "prompt river 4\nprompt rivr 4\n",
    );
    let said = String::from_utf8_lossy(&slipped.stdout);
    assert!(!slipped.status.success(), "{said}");
    assert!(said.contains("the two passwords differ"), "{said}");

    let (mut server, base) = serve(dir.path());
    let client = reqwest::Client::new();
    for (username, password, status) in [
        ("liu", "stdin river 1", 201),
        ("zhao", "file river 2", 201),
        ("qian", "prompt river 3", 201),
        ("qian", "prompt river 4", 401),
    ] {
        let answer = client
            .post(format!("{base}/api/v1/sessions"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{username} with '{password}'");
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn a_password_file_that_other_users_may_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sun.password");
    let add = [
        "user",
        "add",
        "--username",
        "sun",
        "--role",
        "operator",
        "--password-file",
        file.to_str().unwrap(),
    ];
    for mode in [0o644, 0o640, 0o604] {
        write_with_mode(&file, "shared river 5\n", mode);
        let refused = cityops(dir.path(), &add);
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "mode {mode:o}");
        assert!(said.contains("may be read by other users"), "{said}");
        assert!(said.contains("chmod 600"), "{said}");
    }
    // Nothing was added: the same user is added once the file is the owner's alone.
    write_with_mode(&file, "shared river 5\n", 0o600);
    let added = cityops(dir.path(), &add);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
}

#[test]
fn an_empty_password_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let add = ["user", "add", "--username", "zhou", "--role", "operator"];
    let from_stdin = cityops_with_password(dir.path(), &add, "");
    let said = String::from_utf8_lossy(&from_stdin.stderr);
    assert!(!from_stdin.status.success());
    assert!(
        said.contains("the password from standard input is empty"),
        "{said}"
    );
    let file = dir.path().join("empty.password");
    write_with_mode(&file, "\n", 0o600);
    let from_file = cityops(
        dir.path(),
        &[&add[..], &["--password-file", file.to_str().unwrap()]].concat(),
    );
    let said = String::from_utf8_lossy(&from_file.stderr);
    assert!(!from_file.status.success());
    assert!(said.contains("is empty"), "{said}");
}

#[test]
fn a_password_on_the_command_line_is_refused_and_the_other_ways_named() {
    let dir = tempfile::tempdir().unwrap();
    let refused = cityops(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "wang",
            "--role",
            "operator",
            "--password",
            "visible river 6",
        ],
    );
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(said.contains("visible to every user"), "{said}");
    assert!(said.contains("--password-stdin"), "{said}");
}
