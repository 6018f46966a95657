//! `cityops user add|disable|enable|reset` against the store the server uses.

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn cityops(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cityops"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("CITYOPS_LOG_FILTER", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn admins_disable_enable_and_reset_users_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let add = cityops(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "chen",
            "--password",
            "first password",
            "--role",
            "dispatcher",
            "--scope",
            "310101",
        ],
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let refused = cityops(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "wu",
            "--password",
            "short",
            "--role",
            "operator",
        ],
    );
    assert!(
        !refused.status.success(),
        "a password under 8 characters is refused"
    );
    for weak in ["wuxiaoming-1", "password1", "abcdefghijk"] {
        let refused = cityops(
            dir.path(),
            &[
                "user",
                "add",
                "--username",
                "wuxiaoming",
                "--password",
                weak,
                "--role",
                "operator",
            ],
        );
        assert!(!refused.status.success(), "{weak} is refused");
    }
    let no_unit = cityops(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "he",
            "--password",
            "long enough",
            "--role",
            "unit_handler",
        ],
    );
    assert!(!no_unit.status.success(), "a unit handler needs a unit");

    // On one worker thread, as an operator leaving a core to a broker would run it.
    let mut server = Command::new(env!("CARGO_BIN_EXE_cityops"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
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

    assert!(cityops(
        dir.path(),
        &[
            "user",
            "reset",
            "--username",
            "chen",
            "--password",
            "second password"
        ]
    )
    .status
    .success());
    assert_eq!(sign_in("first password").await.unwrap().status(), 401);
    assert_eq!(sign_in("second password").await.unwrap().status(), 201);
    assert!(!cityops(
        dir.path(),
        &[
            "user",
            "reset",
            "--username",
            "nobody",
            "--password",
            "whatever1"
        ]
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
    let scoped = cityops(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "gusu",
            "--password",
            "long enough",
            "--role",
            "operator",
            "--scope",
            "320508001",
        ],
    );
    assert!(
        scoped.status.success(),
        "{}",
        String::from_utf8_lossy(&scoped.stderr)
    );
    let missing = cityops(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "hz",
            "--password",
            "long enough",
            "--role",
            "operator",
            "--scope",
            "330100",
        ],
    );
    assert!(
        !missing.status.success(),
        "nothing of the refused file was imported"
    );
}
