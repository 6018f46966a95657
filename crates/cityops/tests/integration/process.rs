//! `cityops` as separate processes, as an operator runs it: a user added on the command line,
//! `cityops serve` on a free port, killed with SIGKILL where a test says so.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub const PASSWORD: &str = "durable password";

pub fn cityops(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cityops"));
    command.args(args).env("CITYOPS_LOG_FILTER", "warn");
    command
}

/// `cityops user add ARGS --password-stdin`, fed the test's password.
pub fn add_user(args: &[&str]) -> std::process::ExitStatus {
    let mut child = cityops(&[&["user", "add", "--password-stdin"], args].concat())
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        format!("{PASSWORD}\n").as_bytes(),
    )
    .unwrap();
    child.wait().unwrap()
}

/// Starts `cityops serve` on a free port and returns the child and its base URL.
pub fn serve(store_args: &[&str]) -> (Child, String) {
    serve_with(store_args, &[])
}

/// [`serve`] with settings from the environment (`CITYOPS_...`).
pub fn serve_with(store_args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(store_args);
    let mut command = cityops(&args);
    command.envs(env.iter().copied());
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let pid = child.id();
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    reader.read_line(&mut line).unwrap();
    // The log follows on standard output: passed on, so that a failing test shows it.
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            eprintln!("[cityops {pid}] {line}");
        }
    });
    let url = line
        .trim()
        .strip_prefix("CityOps listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (child, url)
}

/// Signs `operator` in with the test's password and returns the session token.
pub async fn sign_in(client: &reqwest::Client, base: &str) -> String {
    let response: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"username": "operator", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["token"].as_str().unwrap().to_owned()
}
